"""Which handler runs which kind of job: the features' work, registered above the queue.

``jobs`` is infrastructure (the table, the claim, the worker loop) and knows no feature; each
feature names its own kinds and writes its handlers, and this table joins them. The app and
the ``contactlists worker`` command hand it to their worker pools.
"""

from __future__ import annotations

from contactlists.imports import tasks as imports
from contactlists.imports.kinds import ADD_CONTACTS, UPLOAD
from contactlists.jobs.worker import Handler
from contactlists.trash import purge

HANDLERS: dict[str, Handler] = {
    ADD_CONTACTS: imports.import_contacts,
    UPLOAD: imports.import_contacts,
    purge.PURGE_LIST: purge.purge_list,
}
