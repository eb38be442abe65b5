"""Stored lists rendered as the v1 and v2 wire shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contactlists.lists.schemas import (
    V1ContactList,
    V1ContactListCreated,
    V1ContactListSummary,
    V1UpdateBody,
    V1UpdateResult,
    V2ContactList,
    V2ContactListSummary,
    V2UpdateBody,
    V2UpdateResult,
)
from contactlists.lists.service import ListView
from contactlists.models.lists import ContactList
from contactlists.wire import Shape


@dataclass(frozen=True)
class ListShapes:
    """The wire models of one path family's contact-list answers."""

    full: type[V1ContactList] | type[V2ContactList]
    created: type[V1ContactListCreated] | type[V2ContactList]
    summary: type[V1ContactListSummary] | type[V2ContactListSummary]
    update_result: type[V1UpdateResult] | type[V2UpdateResult]


# The one place where v1 and v2 differ: the shape of a contact list on the wire.
SHAPES = {
    Shape.V1: ListShapes(V1ContactList, V1ContactListCreated, V1ContactListSummary, V1UpdateResult),
    Shape.V2: ListShapes(V2ContactList, V2ContactList, V2ContactListSummary, V2UpdateResult),
}

# Kore.ai echoes its internal scope spelling inside v2 update responses.
INTERNAL_SCOPE = "campaign_management"


def _wire_fields(view: ListView) -> dict[str, Any]:
    """Every field any shape may show, by wire name; each shape picks its own, in its order."""
    contact_list = view.record
    campaigns = list(view.campaigns)
    return {
        "_id": contact_list.id,
        # A list that can be read is live; the delete response shows it as it was.
        "isActive": True,
        "orgId": contact_list.org_id,
        "name": contact_list.name,
        "lname": contact_list.lname,
        "description": contact_list.description,
        "totalRecordCount": contact_list.total_record_count,
        "status": view.status,
        "createdBy": contact_list.created_by,
        "updatedBy": contact_list.updated_by,
        "mapping": contact_list.mapping,
        "isListInUse": bool(campaigns),
        "iId": contact_list.bot_id,
        "listType": contact_list.list_type,
        "isGlobalDNC": contact_list.is_global_dnc,
        "isDefault": contact_list.is_default,
        "campaignInUse": campaigns,
        "accountId": contact_list.account_id,
        "source": contact_list.source,
        "apiConfigurations": {
            "dataSyncMode": "allowDuplicates"
            if contact_list.allow_duplicates
            else "dontAllowDuplicates"
        },
        "columns": contact_list.columns,
        "files": contact_list.files,
        "createdAt": contact_list.created_at,
        "updatedAt": contact_list.updated_at,
        "allowDuplicates": contact_list.allow_duplicates,
        "defaultRegion": contact_list.default_region,
        "dedupeKey": contact_list.dedupe_key,
    }


def full(view: ListView, shape: Shape) -> V1ContactList | V2ContactList:
    return SHAPES[shape].full.model_validate(_wire_fields(view))


def created(view: ListView, shape: Shape) -> V1ContactListCreated | V2ContactList:
    return SHAPES[shape].created.model_validate(_wire_fields(view))


def summary(view: ListView, shape: Shape) -> V1ContactListSummary | V2ContactListSummary:
    return SHAPES[shape].summary.model_validate(_wire_fields(view))


def update_result(
    contact_list: ContactList, given: dict[str, Any], shape: Shape
) -> V1UpdateResult | V2UpdateResult:
    body: dict[str, Any] = {
        **given,
        "orgId": contact_list.org_id,
        "iId": contact_list.bot_id,
        "listType": contact_list.list_type,
        "accountId": contact_list.account_id,
        "updatedBy": contact_list.updated_by,
    }
    if shape is Shape.V1:
        return V1UpdateResult(contactListId=contact_list.id, body=V1UpdateBody.model_validate(body))
    body["scope"] = [INTERNAL_SCOPE]
    return V2UpdateResult(contactListId=contact_list.id, body=V2UpdateBody.model_validate(body))
