"""The bot's `Default Global DNC` list (CONTRACT §5), made on first use.

Kore.ai gives every bot one empty global do-not-call list; here it appears the first time
something needs it (a campaign write, the DNC lists' get-all). Two first uses at once
make one list: the insert yields to the live-name index (``ON CONFLICT DO NOTHING``), so
the loser neither fails nor aborts its transaction, and then reads the winner's list.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from contactlists.auth import Caller
from contactlists.lists.schemas import MappingV2
from contactlists.models.base import utcnow
from contactlists.models.lists import ContactList

DEFAULT_DNC_NAME = "Default Global DNC"
# Mapped like every API list: each field to itself. Taken from the wire schema rather than the
# lists service, which may call this module.
MAPPED_FIELDS = tuple(MappingV2.model_fields)


async def ensure_default_dnc(
    session: AsyncSession, caller: Caller, default_region: str
) -> ContactList | None:
    """The caller's bot's default DNC list, created if it does not exist yet.

    None when a list of another kind holds the name (a user may have made a call list called
    `Default Global DNC` first): that list is left alone and there is no default DNC.
    """
    found = await _live_by_name(session, caller)
    if found is None:
        await _insert_unless_taken(session, _default_dnc_row(caller, default_region))
        found = await _live_by_name(session, caller)
    if found is None or found.list_type != "dnc":
        return None
    return found


async def _live_by_name(session: AsyncSession, caller: Caller) -> ContactList | None:
    return await session.scalar(
        select(ContactList).where(
            ContactList.account_id == caller.account_id,
            ContactList.bot_id == caller.bot_id,
            ContactList.lname == DEFAULT_DNC_NAME.casefold(),
            ContactList.deleted_at.is_(None),
        )
    )


async def _insert_unless_taken(session: AsyncSession, row: dict[str, Any]) -> None:
    # Both dialects accept a partial index as the conflict target when its WHERE is repeated.
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ContactList)
        .values(**row)
        .on_conflict_do_nothing(
            index_elements=["account_id", "bot_id", "lname"],
            index_where=ContactList.deleted_at.is_(None),
        )
    )
    await session.execute(statement)


def _default_dnc_row(caller: Caller, default_region: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "account_id": caller.account_id,
        "id": f"cl-{uuid.uuid4()}",
        "bot_id": caller.bot_id,
        "name": DEFAULT_DNC_NAME,
        "lname": DEFAULT_DNC_NAME.casefold(),
        "description": "",
        "list_type": "dnc",
        "source": "passiveApi",
        "allow_duplicates": False,
        "default_region": default_region,
        "mapping": {field: field for field in MAPPED_FIELDS},
        "columns": [],
        "files": [],
        "total_record_count": 0,
        "last_position": 0,
        "is_global_dnc": True,
        "is_default": True,
        "org_id": caller.org_id,
        "created_by": caller.actor,
        "updated_by": caller.actor,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        "purge_after": None,
    }
