"""Which handler runs which kind of job."""

from __future__ import annotations

from contactlists.imports import tasks as imports
from contactlists.jobs.worker import Handler

HANDLERS: dict[str, Handler] = {
    "add_contacts": imports.import_contacts,
    "upload": imports.import_contacts,
}
