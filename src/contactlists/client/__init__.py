"""The Python SDK of contactlists (and of Kore.ai's contact-list API, whose paths it uses).

    from contactlists.client import Client

    with Client("http://127.0.0.1:8000", bot="st-…", client_id="cs-…", client_secret="…") as api:
        created = api.lists.create("Spring renewals")
        accepted = api.contacts.upload(created.id, "contacts.csv")
        job = api.jobs.wait(accepted.jobId)

``AsyncClient`` offers the same methods as coroutines. Answers are the service's own wire
models (pydantic); importing this package loads neither SQLAlchemy nor FastAPI.
"""

from __future__ import annotations

from contactlists.campaigns.schemas import CampaignOut as Campaign
from contactlists.campaigns.schemas import (
    CampaignPage,
    SmsCampaignBody,
    TriggerResult,
    VoiceCampaignBody,
)
from contactlists.campaigns.schemas import CampaignStatusOut as CampaignStatus
from contactlists.client._async import AsyncClient
from contactlists.client._calls import ContactFilter
from contactlists.client._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ConflictError,
    ContactListsClientError,
    DuplicateNameError,
    ForbiddenError,
    InternalServerError,
    InvalidCredentialsError,
    InvalidStateError,
    ListInUseError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestTimeoutError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
    WaitTimeout,
)
from contactlists.client._retry import RetryPolicy
from contactlists.client._sync import Client
from contactlists.contacts.schemas import ContactOut as Contact
from contactlists.contacts.schemas import ContactsDeleted, ContactsPage, JobAccepted
from contactlists.dialer.schemas import LeasedContact, OutcomeItem, OutcomeResult
from contactlists.dialer.schemas import Summary as DialerSummary
from contactlists.dnc.schemas import DncResult
from contactlists.jobs.schemas import JobOut as Job
from contactlists.jobs.schemas import RowErrorOut as RowError
from contactlists.lists.schemas import V2ContactList as ContactList
from contactlists.lists.schemas import V2ContactListSummary as ContactListSummary
from contactlists.lists.schemas import V2UpdateResult as ContactListUpdate

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "Campaign",
    "CampaignPage",
    "CampaignStatus",
    "Client",
    "ConflictError",
    "Contact",
    "ContactFilter",
    "ContactList",
    "ContactListSummary",
    "ContactListUpdate",
    "ContactListsClientError",
    "ContactsDeleted",
    "ContactsPage",
    "DialerSummary",
    "DncResult",
    "DuplicateNameError",
    "ForbiddenError",
    "InternalServerError",
    "InvalidCredentialsError",
    "InvalidStateError",
    "Job",
    "JobAccepted",
    "LeasedContact",
    "ListInUseError",
    "MethodNotAllowedError",
    "NotFoundError",
    "OutcomeItem",
    "OutcomeResult",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RequestTimeoutError",
    "RetryPolicy",
    "RowError",
    "ServiceUnavailableError",
    "SmsCampaignBody",
    "TriggerResult",
    "UnsupportedMediaTypeError",
    "ValidationFailedError",
    "VoiceCampaignBody",
    "WaitTimeout",
]
