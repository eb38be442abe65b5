"""Imports every model module so ``Base.metadata`` is complete (Alembic, migration tests)."""

from contactlists.apps import models as apps_models
from contactlists.campaigns import models as campaigns_models
from contactlists.contacts import models as contacts_models
from contactlists.db.base import Base
from contactlists.jobs import models as jobs_models
from contactlists.lists import models as lists_models
from contactlists.ratelimit import models as ratelimit_models

__all__ = [
    "Base",
    "apps_models",
    "campaigns_models",
    "contacts_models",
    "jobs_models",
    "lists_models",
    "ratelimit_models",
]
