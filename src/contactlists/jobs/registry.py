"""Which handler runs which kind of job."""

from __future__ import annotations

from contactlists.imports import purge
from contactlists.imports import tasks as imports
from contactlists.jobs.models import ADD_CONTACTS, PURGE_LIST, UPLOAD
from contactlists.jobs.worker import Handler

HANDLERS: dict[str, Handler] = {
    ADD_CONTACTS: imports.import_contacts,
    UPLOAD: imports.import_contacts,
    PURGE_LIST: purge.purge_list,
}
