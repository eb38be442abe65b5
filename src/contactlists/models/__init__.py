"""Every table of the service, in one package below the features that use them.

Features reach each other's tables only through here, so a query that joins two features'
tables (a list and the campaigns that use it, a list and its running jobs) needs no import of
the other feature. Importing this package registers every table on ``Base.metadata``, which
is what Alembic and the migration tests compare the schema against.
"""

from contactlists.models.apps import App, AppGeneration
from contactlists.models.base import Base, UtcDateTime, utcnow
from contactlists.models.campaigns import Campaign, CampaignList
from contactlists.models.contacts import Contact, ContactPrior
from contactlists.models.dialing import DialingAdmission, DialingLease, DialingRecord
from contactlists.models.jobs import Job, JobError
from contactlists.models.lists import ContactList
from contactlists.models.ratelimit import RateLimitWindow
from contactlists.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "App",
    "AppGeneration",
    "Base",
    "Campaign",
    "CampaignList",
    "Contact",
    "ContactList",
    "ContactPrior",
    "DialingAdmission",
    "DialingLease",
    "DialingRecord",
    "Job",
    "JobError",
    "RateLimitWindow",
    "UtcDateTime",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
    "utcnow",
]
