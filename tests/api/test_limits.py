"""The limits of CONTRACT §6 beyond the hostile-input table: what is read of a body too large,
the JSON that is refused and why, and the values that used to reach the database unbounded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from httpx import AsyncClient

from contactlists.config import Settings
from contactlists.imports.router import FORM_OVERHEAD_BYTES
from tests.support.campaigns import CampaignPaths
from tests.support.contacts import ADD_CONTACTS, create_list
from tests.support.envelope import assert_failure, assert_validation_error
from tests.support.paths import Paths
from tests.support.tenants import Tenant, TenantFactory
from tests.support.uploads import app_with, files_under

pytestmark = pytest.mark.anyio

SMALL = 4096
CHUNK = 1024


@dataclass
class EndlessBody:
    """A request body that never ends; counts what the server took of it."""

    start: bytes
    sent: int = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        self.sent += len(self.start)
        yield self.start
        for _ in range(1_000_000):  # 1 GiB: far more than any limit of these tests
            self.sent += CHUNK
            yield b" " * CHUNK


async def names(client: AsyncClient, tenant: Tenant) -> list[str]:
    response = await client.get(Paths("v1", tenant.bot).get_all, headers=tenant.headers())
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["data"]]


async def test_a_json_body_without_a_length_is_cut_off_at_the_limit(settings: Settings) -> None:
    async with app_with(settings, max_body_bytes=SMALL) as (app, client):
        tenant = await TenantFactory(app).create()
        for method, url in [
            ("POST", Paths("v1", tenant.bot).create),
            ("POST", ADD_CONTACTS.format(bot=tenant.bot)),
            ("POST", CampaignPaths("v2", tenant.bot).get_all),
        ]:
            body = EndlessBody(b'{"name": "Endless", "description": "')
            response = await client.request(
                method,
                url,
                content=body.chunks(),
                headers={**tenant.headers(), "Content-Type": "application/json"},
            )

            assert "content-length" not in response.request.headers
            assert_failure(response, 413, "payload_too_large")
            # The server stopped reading within a chunk of the limit.
            assert SMALL < body.sent <= SMALL + CHUNK, (url, body.sent)
        assert await names(client, tenant) == []


async def test_an_upload_without_a_length_is_cut_off_near_the_limit(settings: Settings) -> None:
    async with app_with(settings, max_upload_bytes=SMALL) as (app, client):
        tenant = await TenantFactory(app).create()
        created = await create_list(client, tenant, "Endless upload")
        boundary = "endless"
        body = EndlessBody(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\nphoneNumber\r\n".encode()
        )

        response = await client.post(
            f"{Paths('v2', tenant.bot).list(created['_id'])}/upload",
            content=body.chunks(),
            headers={
                **tenant.headers(),
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )

        assert_failure(response, 413, "payload_too_large")
        # The form's framing may take up to FORM_OVERHEAD_BYTES beside a file at the limit.
        assert body.sent <= SMALL + FORM_OVERHEAD_BYTES + CHUNK, body.sent
        assert files_under(settings.data_dir) == []


async def test_json_in_utf8_is_accepted_however_it_is_labelled(
    client: AsyncClient, tenant: Tenant
) -> None:
    labels = [
        "application/json; charset=utf-8",
        "application/json; charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json;charset=utf8",
        "application/json; version=2",
        "application/problem+json; charset=utf-8",
    ]
    for index, content_type in enumerate(labels):
        response = await client.post(
            Paths(("v1", "v2")[index % 2], tenant.bot).create,
            content=f'{{"name": "Étiquette {index}"}}'.encode(),
            headers={**tenant.headers(), "Content-Type": content_type},
        )
        assert response.status_code == 200, f"{content_type}: {response.text}"


async def test_a_charset_other_than_utf8_is_a_415(client: AsyncClient, tenant: Tenant) -> None:
    for charset in ["iso-8859-1", "latin1", "utf-16", "UTF-16LE", "us-ascii", "windows-1252", ""]:
        response = await client.post(
            Paths("v1", tenant.bot).create,
            content=b'{"name": "Labelled"}',
            headers={**tenant.headers(), "Content-Type": f"application/json; charset={charset}"},
        )
        errors = assert_failure(response, 415, "unsupported_media_type")
        assert "UTF-8" in errors[0]["msg"], charset
    assert await names(client, tenant) == []


async def test_a_utf8_bom_is_ignored(client: AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        Paths("v1", tenant.bot).create,
        content=b"\xef\xbb\xbf" + json.dumps({"name": "Marked"}).encode(),
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert await names(client, tenant) == ["Marked"]


async def test_json_that_parsers_read_differently_is_refused_with_its_reason(
    client: AsyncClient, tenant: Tenant
) -> None:
    cases = [
        (b'{"name": "a", "name": "b"}', 'The key "name" appears twice'),
        (b'{"name": "a", "x": {"k": 1, "k": 2}}', 'The key "k" appears twice'),
        (b'{"name": "a", "x": NaN}', "NaN is not a JSON value"),
        (b'{"name": "a", "x": -Infinity}', "-Infinity is not a JSON value"),
        (b'{"name": "a", "x": 1e400}', "The number 1e400 is too large"),
        (b'{"name": "a", "x": -2.5E+999}', "The number -2.5E+999 is too large"),
    ]
    for content, said in cases:
        response = await client.post(
            Paths("v2", tenant.bot).create,
            content=content,
            headers={**tenant.headers(), "Content-Type": "application/json"},
        )
        errors = assert_validation_error(response, ["body"])
        assert said in errors[0]["msg"], content
    assert await names(client, tenant) == []


async def test_large_but_finite_numbers_and_equal_keys_in_different_objects_are_json(
    client: AsyncClient, tenant: Tenant
) -> None:
    content = (
        b'{"name": "Fine", "a": {"k": 1e308}, "b": {"k": -1.5e-320}, "c": 123456789012345678901}'
    )
    response = await client.post(
        Paths("v1", tenant.bot).create,
        content=content,
        headers={**tenant.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


async def test_an_upload_mapping_with_a_repeated_key_is_refused(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create_list(client, tenant, "Mapped")
    response = await client.post(
        f"{Paths('v1', tenant.bot).list(created['_id'])}/upload",
        files={"file": ("a.csv", b"Mobile,Other\r\n+12125550100,x\r\n", "text/csv")},
        data={"mapping": '{"phoneNumber": "Mobile", "phoneNumber": "Other"}'},
        headers=tenant.headers(),
    )
    errors = assert_validation_error(response, ["mapping"])
    assert 'The key "phoneNumber" appears twice' in errors[0]["msg"]


def cursor_at(position: str) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


async def test_a_cursor_beyond_64_bits_is_refused_and_the_largest_pages_to_nothing(
    client: AsyncClient, tenant: Tenant
) -> None:
    created = await create_list(client, tenant, "Cursor")
    url = f"{Paths('v1', tenant.bot).list(created['_id'])}/getAllContacts"

    largest = await client.get(
        url, params={"cursor": cursor_at(str(2**63 - 1))}, headers=tenant.headers()
    )
    assert largest.status_code == 200, largest.text
    assert largest.json()["data"]["results"] == []
    # Positions past 64 bits, and digits that int() reads but that are not ASCII.
    for position in [str(2**63), "9" * 40, "١٢", "-1", "+1", " 1"]:
        response = await client.get(
            url, params={"cursor": cursor_at(position)}, headers=tenant.headers()
        )
        assert_validation_error(response, ["cursor"])


async def test_a_date_whose_utc_time_does_not_exist_is_a_400(
    client: AsyncClient, tenant: Tenant
) -> None:
    for field, value in [
        ("startDate", "9999-12-31T23:59:59-14:00"),
        ("endDate", "0001-01-01T00:00:00+14:00"),
    ]:
        response = await client.post(
            CampaignPaths("v1", tenant.bot).get_all,
            json={"type": "voice", field: value},
            headers=tenant.headers(),
        )
        errors = assert_validation_error(response, [field])
        assert "out of the range of dates" in errors[0]["msg"]


async def test_add_contacts_refuses_a_list_name_with_control_characters(
    client: AsyncClient, tenant: Tenant
) -> None:
    await create_list(client, tenant, "Kept")
    for name in ["Kept\x00", "\x00", "Ke\x07pt", "Kept\n"]:
        response = await client.post(
            ADD_CONTACTS.format(bot=tenant.bot),
            json={"contact_list_name": name, "data": [{"phoneNumber": "+12125550100"}]},
            headers=tenant.headers(),
        )
        assert_validation_error(response, ["contact_list_name"])


async def test_a_job_id_that_is_not_one_is_404(client: AsyncClient, tenant: Tenant) -> None:
    prefix = Paths("v2", tenant.bot).prefix
    for job_id in ["job-%00", "job-1'--", "job-", "%2e%2e", "other-1", "job-" + "a" * 101]:
        for method, path in [
            ("GET", f"{prefix}/jobs/{job_id}"),
            ("GET", f"{prefix}/jobs/{job_id}/errors"),
            ("POST", f"{prefix}/jobs/{job_id}/cancel"),
        ]:
            response = await client.request(method, path, headers=tenant.headers())
            assert_failure(response, 404, "not_found")


async def test_campaign_filters_longer_than_their_bound_are_refused_unread(
    client: AsyncClient, tenant: Tenant
) -> None:
    """A filter names each value once, so it needs at most a few; a long one is one error.

    Each value was once one bound parameter (PostgreSQL takes at most 32,767 in a statement),
    then one validation entry each: a million bad values made a 213 MB answer.
    """
    filters = {
        "status": ["Ready", "Active"] * 20_000,
        "priority": [2, "2", 3] * 15_000,
        "dialingMode": ["Progressive"] * 40_000,
    }

    response = await client.post(
        CampaignPaths("v1", tenant.bot).get_all,
        json={"type": "voice", "filters": filters},
        headers=tenant.headers(),
    )

    entries = assert_validation_error(
        response, ["filters.status", "filters.priority", "filters.dialingMode"]
    )
    assert all("at most 20" in entry["msg"] for entry in entries)
    assert len(response.content) < 4096
