"""Which handler runs which kind of job: the features' work, registered above the queue.

``jobs`` is infrastructure (the table, the claim, the worker loop) and knows no feature; each
feature names its own kinds and writes its handlers, and this table joins them, with what the
worker pool does around them: what goes once a job has ended, which kinds never give up, and
the periodic chores. The app and the ``contactlists worker`` command hand it to their pools.
"""

from __future__ import annotations

from contactlists.imports import tasks as imports
from contactlists.imports.kinds import ADD_CONTACTS, UPLOAD
from contactlists.jobs.worker import Chore, Handlers
from contactlists.trash import purge
from contactlists.undo import tasks as undo
from contactlists.undo.service import UNDO_IMPORT
from contactlists.webhooks import delivery as webhooks

HANDLERS = Handlers(
    {
        ADD_CONTACTS: imports.import_contacts,
        UPLOAD: imports.import_contacts,
        purge.PURGE_LIST: purge.purge_list,
        UNDO_IMPORT: undo.undo_import,
    },
    # An upload's file goes once its job has ended, whatever ended it.
    ended={UPLOAD: imports.upload_ended},
    # A deleted list's data must go: its purge is retried however often it fails.
    persistent={purge.PURGE_LIST},
    chores=[
        Chore(
            "sweep orphaned uploads",
            imports.sweep_orphan_uploads,
            every=lambda settings: settings.upload_sweep_seconds,
        ),
        # The outbox is its own queue (one row per hook and event), so a delivery is a chore's
        # round rather than a job: no job row per event, and the chore's claim has a lease.
        Chore(
            "deliver webhooks",
            webhooks.deliver_due,
            every=lambda settings: settings.webhook_poll_seconds,
        ),
    ],
)
