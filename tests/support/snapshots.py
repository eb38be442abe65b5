"""Every stored contact of a list, every column: what upsert and undo tests compare."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import inspect, select

from contactlists.models.contacts import Contact
from contactlists.models.lists import ContactList
from tests.support.durable import sessions

COLUMNS = tuple(column.key for column in inspect(Contact).columns)


async def stored_contacts(app: FastAPI, account_id: str, list_id: str) -> dict[int, dict[str, Any]]:
    """The list's contacts by position, each as every column's value."""
    async with sessions(app)() as session:
        query = (
            select(Contact)
            .where(Contact.account_id == account_id, Contact.list_id == list_id)
            .order_by(Contact.position)
            .execution_options(populate_existing=True)
        )
        found = (await session.scalars(query)).all()
    return {c.position: {name: getattr(c, name) for name in COLUMNS} for c in found}


async def record_count(app: FastAPI, account_id: str, list_id: str) -> int:
    async with sessions(app)() as session:
        listed = await session.get(ContactList, (account_id, list_id), populate_existing=True)
    assert listed is not None
    return listed.total_record_count
