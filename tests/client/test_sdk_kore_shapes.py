"""The SDK reads Kore.ai's own answers: keys only this service sends may be absent.

The bodies are Kore.ai's documented v2 samples (reference/kore-docs-notes.md §4.3, §4.8),
served by a mock transport since no Kore.ai tenant is reachable from the tests.
"""

from __future__ import annotations

from typing import Any

import httpx

from contactlists.client import Client

BOT = "st-0603182c-7ffb-53c3-b307-47ca14b9b0a1"
LIST_ID = "cl-8a1e5d0c-5d2b-4a8e-9f7e-3f1b2c4d5e6f"
MAPPING = {
    "firstName": "firstName",
    "lastName": "lastName",
    "phoneNumber": "phoneNumber",
    "timeZone": "timeZone",
    "uniqueId": "uniqueId",
    "contactPriority": "contactPriority",
}
KORE_V2_LIST = {
    "_id": LIST_ID,
    "isActive": True,
    "name": "Renewal Due - August 2025",
    "description": "Customers with services expiring in July 2025.",
    "totalRecordCount": 2,
    "status": "Ready",
    "createdBy": "u-4c3b2a19-7f1e-5d2c-9b8a-1f2e3d4c5b6a",
    "updatedBy": "u-4c3b2a19-7f1e-5d2c-9b8a-1f2e3d4c5b6a",
    "mapping": MAPPING,
    "isListInUse": False,
    "listType": "call",
    "isGlobalDNC": False,
    "isDefault": False,
    "campaignInUse": [],
    "source": "passiveApi",
    "apiConfigurations": {"dataSyncMode": "allowDuplicates"},
    "columns": [],
    "files": [],
    "createdAt": "2025-06-26T12:32:02.735Z",
    "updatedAt": "2025-06-26T12:32:02.735Z",
    "allowDuplicates": True,
}
KORE_CONTACT = {
    "_id": "cc-0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "createdAt": "2025-06-26T12:40:00.000Z",
    "updatedAt": "2025-06-26T12:40:00.000Z",
    "phoneNumber": "+12125550100",
}
KORE_CONTACTS_PAGE = {
    "results": [KORE_CONTACT],
    "skip": 0,
    "limit": 50,
    "hasMore": False,
    "totalPages": 1,
    "totalResults": 1,
}


def kore(answers: dict[str, Any]) -> Client:
    def answer(request: httpx.Request) -> httpx.Response:
        for suffix, data in answers.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(200, json={"status": "success", "message": "", "data": data})
        return httpx.Response(404)

    return Client(
        "https://platform.kore.ai",
        bot=BOT,
        token="a-token-from-kore",
        transport=httpx.MockTransport(answer),
    )


def test_a_kore_list_without_our_extension_keys_is_read() -> None:
    with kore({LIST_ID: KORE_V2_LIST}) as api:
        found = api.lists.get(LIST_ID)

    assert found.id == LIST_ID
    assert found.allowDuplicates is True
    assert found.defaultRegion is None


def test_a_kore_contacts_page_with_only_the_documented_keys_is_read() -> None:
    with kore({"/getAllContacts": KORE_CONTACTS_PAGE}) as api:
        contacts = list(api.contacts.list(LIST_ID))

    assert [c.phoneNumber for c in contacts] == ["+12125550100"]
    assert contacts[0].firstName is None
    assert contacts[0].fields == {}


def test_contacts_of_a_server_that_gives_no_cursor_are_paged_by_offset() -> None:
    """Kore.ai's pages have `hasMore` but no `nextCursor`: the iterator goes on by `skip`."""
    numbers = [f"+1212555{n:04d}" for n in range(5)]
    skips: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        skips.append(request.url.params.get("skip"))
        skip = int(request.url.params.get("skip", "0"))
        limit = int(request.url.params["limit"])
        shown = numbers[skip : skip + limit]
        page = {
            **KORE_CONTACTS_PAGE,
            "results": [{**KORE_CONTACT, "_id": f"cc-{n}", "phoneNumber": n} for n in shown],
            "skip": skip,
            "limit": limit,
            "hasMore": skip + limit < len(numbers),
            "totalResults": len(numbers),
        }
        return httpx.Response(200, json={"status": "success", "message": "", "data": page})

    transport = httpx.MockTransport(answer)
    with Client("https://platform.kore.ai", bot=BOT, token="t", transport=transport) as api:
        contacts = list(api.contacts.list(LIST_ID, page_size=2))

    assert [c.phoneNumber for c in contacts] == numbers
    assert skips == [None, "2", "4"]
