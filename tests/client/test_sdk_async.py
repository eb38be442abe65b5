"""``AsyncClient``: every resource against a real service, and its retries against a fake."""

from __future__ import annotations

import io
import time
from pathlib import Path

import httpx
import jwt
import pytest

from contactlists.client import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncClient,
    Contact,
    InvalidCredentialsError,
    InvalidStateError,
    Job,
    ListInUseError,
    NotFoundError,
    WaitTimeout,
)
from tests.support.campaigns import sms_body, voice_body
from tests.support.live import LiveService
from tests.support.sdk import (
    BOT,
    CLIENT_ID,
    CLIENT_SECRET,
    JOB_ID,
    LIST_ID,
    BreakingStream,
    Recorder,
    accepted_answer,
    csv_file,
    envelope,
    job_answer,
    list_answer,
    people,
    phone,
    read_csv,
)

pytestmark = pytest.mark.anyio
WAIT = {"poll_interval": 0.05, "timeout": 60.0}


async def test_lists_from_create_to_restore(live: LiveService) -> None:
    tenant = live.tenant()
    async with tenant.async_client(sub="u-async") as api:
        created = await api.lists.create("Async list", description="first")
        got = await api.lists.get(created.id)
        listed = await api.lists.list(search="async")
        updated = await api.lists.update(created.id, name="Async renamed")
        deleted = await api.lists.delete(created.id)
        with pytest.raises(NotFoundError):
            await api.lists.get(created.id)
        restored = await api.lists.restore(created.id)

    assert got == created
    assert created.createdBy == "u-async"
    assert [item.id for item in listed] == [created.id]
    assert updated.body.name == "Async renamed"
    assert deleted.name == "Async renamed"
    assert (restored.id, restored.name) == (created.id, "Async renamed")


async def test_force_delete_of_a_list_in_use(live: LiveService) -> None:
    tenant = live.tenant()
    async with tenant.async_client() as api:
        used = await api.lists.create("Used")
        campaign = await api.campaigns.create(voice_body("Dialer", ["Used"]))
        with pytest.raises(ListInUseError) as raised:
            await api.lists.delete(used.id)
        assert raised.value.campaign_in_use == [{"id": campaign.id, "name": "Dialer"}]
        await api.lists.delete(used.id, force=True)
        assert (await api.campaigns.get(campaign.id)).contactLists == []


async def test_upload_wait_iterate_and_export(live: LiveService, tmp_path: Path) -> None:
    rows = [["Mobile", "Name", "note"]]
    rows += [[phone(n), f"Name {n}", f"two\nlines {n}"] for n in range(240)]
    path = tmp_path / "people.csv.gz"
    path.write_bytes(csv_file(rows, compress=True))
    seen: list[Job] = []
    sent: list[int] = []
    tenant = live.tenant()
    async with tenant.async_client() as api:
        created = await api.lists.create("Async upload")
        accepted = await api.contacts.upload(
            created.id,
            path,
            mapping={"phoneNumber": "Mobile", "firstName": "Name"},
            on_progress=lambda done, total: sent.append(done),
        )
        job = await api.jobs.wait(accepted.jobId, on_progress=seen.append, **WAIT)
        contacts = [contact async for contact in api.contacts.list(created.id, page_size=100)]
        page = await api.contacts.page(created.id, skip=100, limit=5)
        to_path = await api.contacts.export(created.id, tmp_path / "out.csv")
        buffer = io.BytesIO()
        to_file = await api.contacts.export(created.id, buffer)

    assert (job.state, job.inserted) == ("completed", 240)
    assert seen
    assert {report.id for report in seen} == {accepted.jobId}
    assert seen[-1] == job
    assert sent[-1] == path.stat().st_size
    assert all(isinstance(contact, Contact) for contact in contacts)
    assert [c.phoneNumber for c in contacts] == [phone(n) for n in range(240)]
    assert contacts[0].fields == {"note": "two\nlines 0"}
    assert page.results == contacts[100:105]
    assert to_path == to_file == 240
    exported = read_csv(buffer.getvalue())
    assert (tmp_path / "out.csv").read_bytes() == buffer.getvalue()
    assert [row["_id"] for row in exported] == [c.id for c in contacts]


async def test_add_single_contacts_and_jobs(live: LiveService) -> None:
    tenant = live.tenant()
    async with tenant.async_client() as api:
        created = await api.lists.create("Async contacts")
        accepted = await api.contacts.add("Async contacts", [*people(4), {"phoneNumber": "x"}])
        job = await api.jobs.wait(accepted.jobId, **WAIT)
        errors = await api.jobs.errors(accepted.jobId)
        assert await api.jobs.get(accepted.jobId) == job
        assert await api.jobs.cancel(accepted.jobId) == job
        first, second, third, fourth = [c async for c in api.contacts.list(created.id)]
        assert await api.contacts.get(created.id, first.id) == first
        changed = await api.contacts.update(created.id, first.id, {"lastName": "Changed"})
        removed = await api.contacts.delete(created.id, second.id)
        bulk = await api.contacts.delete_many(created.id, [third.id, fourth.id])
        left = [c.id async for c in api.contacts.list(created.id)]

    assert (job.inserted, job.invalid) == (4, 1)
    assert [(error.row, error.field) for error in errors] == [(5, "phoneNumber")]
    assert changed.lastName == "Changed"
    assert removed == second
    assert (bulk.deleted, bulk.notFound) == (2, [])
    assert left == [first.id]


async def test_campaigns_lifecycle(live: LiveService) -> None:
    tenant = live.tenant()
    async with tenant.async_client() as api:
        await api.lists.create("Calls")
        voice = await api.campaigns.create(voice_body("Async voice", ["Calls"]))
        sms = await api.campaigns.create(sms_body("Async sms", ["Calls"]))
        updated = await api.campaigns.update(
            voice.id, voice_body("Async voice", ["Calls"], priority="1")
        )
        played = await api.campaigns.play(voice.id)
        paused = await api.campaigns.pause(voice.id)
        resumed = await api.campaigns.resume(voice.id)
        with pytest.raises(InvalidStateError):
            await api.campaigns.play(voice.id)
        stopped = await api.campaigns.trigger(voice.id, "stop", campaign_type="voice")
        status = await api.campaigns.status(voice.id)
        page = await api.campaigns.list("voice", limit=10, sort_by={"name": "asc"})
        texts = await api.campaigns.list("sms", filters={"status": ["Ready"]})
        deleted = await api.campaigns.delete(sms.id, campaign_type="sms")
        with pytest.raises(NotFoundError):
            await api.campaigns.get(sms.id)

    assert updated.priority == "1"
    assert [r.status for r in (played, paused, resumed, stopped)] == [
        "Active",
        "Paused",
        "Active",
        "Stopped",
    ]
    assert (status.id, status.status) == (voice.id, "Stopped")
    assert [c.id for c in page.results] == [voice.id]
    assert [c.id for c in texts.results] == [sms.id]
    assert deleted.id == sms.id


async def test_errors_come_from_the_real_service_too(live: LiveService) -> None:
    tenant = live.tenant()
    async with AsyncClient(
        tenant.base_url, bot=tenant.bot, client_id=tenant.client_id, client_secret="y" * 43
    ) as api:
        with pytest.raises(InvalidCredentialsError) as raised:
            await api.lists.list()
    assert raised.value.request_id


# ---------------------------------------------------------------- retries, against a fake


async def test_a_429_is_retried_after_retry_after() -> None:
    limited = envelope(429, "rate_limited")
    limited.headers["Retry-After"] = "1"
    fake = Recorder([limited, list_answer()])
    async with fake.async_client(retry=None) as api:
        started = time.monotonic()
        got = await api.lists.create("Fake")
        elapsed = time.monotonic() - started
    assert got.id == LIST_ID
    assert len(fake.requests) == 2
    assert 0.9 <= elapsed < 3.0


async def test_gateway_errors_retry_a_get_but_not_a_post() -> None:
    fake = Recorder([httpx.Response(503), httpx.Response(504), job_answer("completed")])
    async with fake.async_client() as api:
        assert (await api.jobs.get(JOB_ID)).state == "completed"
    assert len(fake.requests) == 3

    fake = Recorder([httpx.Response(502)])
    async with fake.async_client() as api:
        with pytest.raises(APIError) as raised:
            await api.contacts.add("Once", people(1))
    assert raised.value.status_code == 502
    assert len(fake.requests) == 1


async def test_a_broken_post_is_sent_once_and_a_broken_get_again() -> None:
    fake = Recorder([httpx.RemoteProtocolError("server disconnected"), accepted_answer()])
    async with fake.async_client() as api:
        with pytest.raises(APIConnectionError, match="may have been carried out"):
            await api.contacts.upload(LIST_ID, b"phoneNumber\r\n+14155550100\r\n")
    assert len(fake.requests) == 1

    fake = Recorder([httpx.ReadError("reset"), list_answer()])
    async with fake.async_client() as api:
        assert (await api.lists.get(LIST_ID)).id == LIST_ID
    assert len(fake.requests) == 2


async def test_max_retries_zero_and_timeouts() -> None:
    fake = Recorder([httpx.ReadTimeout("too slow"), list_answer()])
    async with fake.async_client(retry=None, max_retries=0) as api:
        with pytest.raises(APITimeoutError):
            await api.lists.get(LIST_ID)
    assert len(fake.requests) == 1


async def test_an_export_broken_mid_body_is_not_started_again() -> None:
    header = b"_id,phoneNumber,createdAt\r\n"
    fake = Recorder([httpx.Response(200, stream=BreakingStream([header])), list_answer()])
    async with fake.async_client() as api:
        with pytest.raises(APIConnectionError):
            await api.contacts.export(LIST_ID, io.BytesIO())
    assert len(fake.requests) == 1


async def test_wait_times_out_with_the_last_state() -> None:
    fake = Recorder([job_answer("queued") for _ in range(40)])
    async with fake.async_client() as api:
        with pytest.raises(WaitTimeout) as raised:
            await api.jobs.wait(JOB_ID, timeout=0.1, poll_interval=0.02)
    assert raised.value.job.state == "queued"


async def test_headers_carry_the_minted_token_and_the_account() -> None:
    fake = Recorder([list_answer()])
    async with fake.async_client(account_id="b" * 24) as api:
        await api.lists.get(LIST_ID)
    request = fake.requests[0]
    assert request.headers["accountId"] == "b" * 24
    claims = jwt.decode(request.headers["auth"], CLIENT_SECRET, algorithms=["HS256"])
    assert claims["appId"] == CLIENT_ID
    assert request.url.path.startswith(f"/campaign/api/v2/public/{BOT}/")
