# scripts/unasync.py generates _sync.py from this file: run `make unasync` after changing it.
"""The asyncio SDK: ``AsyncClient``. Every method is one call of ``_calls`` (or a loop of them)."""

from __future__ import annotations

import time
from asyncio import sleep
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import httpx

from contactlists.campaigns.schemas import (
    CampaignOut,
    CampaignPage,
    CampaignStatusOut,
    CampaignType,
    Trigger,
    TriggerResult,
)
from contactlists.client import _calls as calls
from contactlists.client._calls import ContactFilter
from contactlists.client._errors import WaitTimeout
from contactlists.client._retry import RetryPolicy
from contactlists.client._rows import RecordCounter
from contactlists.client._transport import (
    DEFAULT_TIMEOUT,
    NO_RETRIES,
    AsyncSender,
    Attempts,
    Connection,
    UploadProgress,
    UploadSource,
    connection,
    connection_error,
    read_answer,
    request_kwargs,
    upload_file,
)
from contactlists.contacts.schemas import (
    ContactOut,
    ContactsDeleted,
    ContactsPage,
    JobAccepted,
    OnDuplicate,
)
from contactlists.dialer.schemas import LeasedContact, OutcomeItem, OutcomeResult, Summary
from contactlists.dnc.schemas import DncResult
from contactlists.jobs.schemas import JobOut, RowErrorOut
from contactlists.lists.schemas import (
    DedupeKey,
    V2ContactList,
    V2ContactListSummary,
    V2UpdateResult,
)

T = TypeVar("T")


class AsyncClient:
    """An asyncio client of one bot of a contactlists service (or of Kore.ai).

    Give the app's ``client_id`` and ``client_secret`` (the client mints and renews its
    JWTs) or an existing ``token``. ``max_retries`` and ``timeout`` apply to every call;
    see :class:`RetryPolicy` for what is retried.
    """

    def __init__(
        self,
        base_url: str,
        *,
        bot: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        token: str | None = None,
        account_id: str | None = None,
        sub: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        retry: RetryPolicy | None = None,
        token_lifetime: int = 3600,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._connection: Connection = connection(
            base_url,
            bot=bot,
            client_id=client_id,
            client_secret=client_secret,
            token=token,
            account_id=account_id,
            sub=sub,
            token_lifetime=token_lifetime,
        )
        self._retry = retry or RetryPolicy(max_retries=max_retries)
        self._http = httpx.AsyncClient(
            base_url=self._connection.base_url, timeout=timeout, transport=transport
        )
        self.lists = Lists(self)
        self.contacts = Contacts(self)
        self.jobs = Jobs(self)
        self.campaigns = Campaigns(self)
        self.dialer = Dialer(self)
        self.dnc = Dnc(self)

    @property
    def bot(self) -> str:
        return self._connection.bot

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _send(self, call: calls.Call[T]) -> T:
        return await self._retrying(
            call, self._retry, lambda: self._http.request(**request_kwargs(call, self._connection))
        )

    async def _retrying(self, call: calls.Call[T], policy: RetryPolicy, send: AsyncSender) -> T:
        """Send with ``send`` until an answer can be read, or ``policy`` says to give up."""
        attempts = Attempts(call, policy)
        while True:
            try:
                response = await send()
            except httpx.TransportError as failure:
                delay = attempts.after_failure(failure)
            else:
                if response.is_success:
                    return read_answer(call, response)
                delay = attempts.after_answer(response)
            await sleep(delay)

    async def _upload(
        self,
        call: calls.Call[T],
        source: UploadSource,
        *,
        file_name: str | None,
        fields: dict[str, str],
        progress: UploadProgress | None,
    ) -> T:
        with upload_file(source, file_name, progress) as part:
            # A stream read once (a pipe) cannot be sent again, whatever the answer.
            return await self._retrying(
                call,
                self._retry if part.rewindable else NO_RETRIES,
                lambda: self._http.post(
                    call.url(self.bot),
                    files={"file": (part.name, part.file, calls.upload_media_type(part.name))},
                    data=fields,
                    headers=self._connection.headers(),
                ),
            )

    async def _download(self, call: calls.Call[Any], sink: Callable[[bytes], None]) -> None:
        """Stream the answer of a GET into ``sink``; retried only before its body starts."""
        attempts = Attempts(call, self._retry)
        while True:
            received = False
            try:
                async with self._http.stream(**request_kwargs(call, self._connection)) as response:
                    if response.is_success:
                        async for chunk in response.aiter_bytes():
                            received = True
                            sink(chunk)
                        return
                    await response.aread()
                    delay = attempts.after_answer(response)
            except httpx.TransportError as failure:
                if received:
                    # Part of the body is already with the caller: starting again would repeat it.
                    raise connection_error(call, failure, attempts.made) from failure
                delay = attempts.after_failure(failure)
            await sleep(delay)


class _Resource:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client


class Lists(_Resource):
    """Contact lists (CONTRACT §4.1–4.5)."""

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        allow_duplicates: bool | None = None,
        list_type: Literal["call", "sms"] | None = None,
        default_region: str | None = None,
        source: Literal["passiveApi", "passiveApiIntegration"] | None = None,
        dedupe_key: DedupeKey | None = None,
    ) -> V2ContactList:
        """Create a list; ``dedupe_key`` (``phoneNumber`` by default, or ``uniqueId``) is what
        makes two of its contacts the same, for a list without duplicates."""
        return await self._client._send(
            calls.create_list(
                name,
                description=description,
                allow_duplicates=allow_duplicates,
                list_type=list_type,
                default_region=default_region,
                source=source,
                dedupe_key=dedupe_key,
            )
        )

    async def get(self, list_id: str) -> V2ContactList:
        return await self._client._send(calls.get_list(list_id))

    async def list(
        self,
        *,
        list_type: calls.ListKind | None = None,
        search: str | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> list[V2ContactListSummary]:
        """The bot's lists, most recently updated first; every one unless ``limit`` is given."""
        return await self._client._send(
            calls.list_lists(list_type=list_type, search=search, skip=skip, limit=limit)
        )

    async def update(
        self,
        list_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        allow_duplicates: bool | None = None,
        default_region: str | None = None,
        dedupe_key: DedupeKey | None = None,
    ) -> V2UpdateResult:
        """Change the fields given; ``dedupe_key`` only while the list has no contacts."""
        return await self._client._send(
            calls.update_list(
                list_id,
                name=name,
                description=description,
                allow_duplicates=allow_duplicates,
                default_region=default_region,
                dedupe_key=dedupe_key,
            )
        )

    async def delete(self, list_id: str, *, force: bool = False) -> V2ContactList:
        """Delete a list (restorable for the service's trash period); ``force`` detaches it
        from the campaigns that use it first."""
        return await self._client._send(calls.delete_list(list_id, force=force))

    async def restore(self, list_id: str) -> V2ContactList:
        return await self._client._send(calls.restore_list(list_id))


class Contacts(_Resource):
    """The contacts of lists: adding, importing, paging, exporting, single contacts."""

    async def add(
        self,
        list_name: str,
        contacts: Iterable[Mapping[str, Any]],
        *,
        on_duplicate: OnDuplicate | None = None,
    ) -> JobAccepted:
        """Queue contacts (at most the service's batch size, 10,000 by default) for a list
        named ``list_name``; follow ``jobId`` with ``jobs.wait``.

        ``on_duplicate="update"`` overwrites the given fields of the contact a row matches
        (by the list's dedupe key) instead of skipping the row (``"skip"``, the default).
        """
        return await self._client._send(
            calls.add_contacts(list_name, contacts, on_duplicate=on_duplicate)
        )

    async def upload(
        self,
        list_id: str,
        file: UploadSource,
        *,
        mapping: Mapping[str, str] | None = None,
        file_name: str | None = None,
        on_progress: UploadProgress | None = None,
        encoding: str | None = None,
        on_duplicate: OnDuplicate | None = None,
    ) -> JobAccepted:
        """Import a CSV file (gzip allowed) or an Excel workbook (.xlsx, its first sheet) into
        a list; ``file`` is a path, bytes or a binary file.

        ``mapping`` maps our field names to the file's headers; ``encoding`` is a CSV file's
        text encoding (a codec name such as ``cp1252``; UTF-8 when None); ``on_progress`` is
        called with (bytes sent, total bytes) as the file goes out; ``on_duplicate`` as for
        ``add``.
        """
        return await self._client._upload(
            calls.upload_contacts(list_id),
            file,
            file_name=file_name,
            fields=calls.upload_fields(mapping, encoding, on_duplicate),
            progress=on_progress,
        )

    async def page(
        self,
        list_id: str,
        *,
        skip: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        filters: ContactFilter | None = None,
    ) -> ContactsPage:
        """One page of a list's contacts; under ``filters`` only those that pass (a cursor
        is valid only with the filters of the page that gave it)."""
        return await self._client._send(
            calls.contacts_page(list_id, skip=skip, limit=limit, cursor=cursor, filters=filters)
        )

    async def list(
        self, list_id: str, *, page_size: int = 1000, filters: ContactFilter | None = None
    ) -> AsyncIterator[ContactOut]:
        """Every contact of a list (or every one that passes ``filters``) in insertion order,
        fetched a page at a time (by cursor)."""
        paging = calls.ContactPaging(page_size)
        while True:
            page = await self.page(list_id, **paging.arguments(), filters=filters)
            for contact in page.results:
                yield contact
            if not paging.advance(page):
                return

    async def export(
        self,
        list_id: str,
        destination: str | Path | IO[bytes],
        *,
        on_progress: Callable[[int], None] | None = None,
        filters: ContactFilter | None = None,
    ) -> int:
        """Write a list's contacts (or those that pass ``filters``) as CSV to a path or binary
        file; returns the contacts written. ``on_progress`` gets the running count."""
        counter = RecordCounter()

        async def write_to(file: IO[bytes]) -> None:
            def sink(chunk: bytes) -> None:
                file.write(chunk)
                if counter.feed(chunk) and on_progress:
                    on_progress(max(0, counter.records - 1))

            await self._client._download(calls.export_contacts(list_id, filters), sink)

        if isinstance(destination, str | Path):
            with Path(destination).open("wb") as file:
                await write_to(file)
        else:
            await write_to(destination)
        return max(0, counter.total() - 1)

    async def get(self, list_id: str, contact_id: str) -> ContactOut:
        return await self._client._send(calls.get_contact(list_id, contact_id))

    async def update(self, list_id: str, contact_id: str, changes: Mapping[str, Any]) -> ContactOut:
        """Change fields of a contact; a custom field set to None is removed."""
        return await self._client._send(calls.update_contact(list_id, contact_id, changes))

    async def delete(self, list_id: str, contact_id: str) -> ContactOut:
        return await self._client._send(calls.delete_contact(list_id, contact_id))

    async def delete_many(self, list_id: str, contact_ids: Iterable[str]) -> ContactsDeleted:
        return await self._client._send(calls.delete_contacts(list_id, contact_ids))


class Jobs(_Resource):
    """Import jobs: their progress, row errors, cancelling, and waiting for the end."""

    async def get(self, job_id: str) -> JobOut:
        return await self._client._send(calls.get_job(job_id))

    async def errors(self, job_id: str) -> list[RowErrorOut]:
        return await self._client._send(calls.job_errors(job_id))

    async def cancel(self, job_id: str) -> JobOut:
        return await self._client._send(calls.cancel_job(job_id))

    async def undo(self, job_id: str) -> JobAccepted:
        """Undo a finished import: queues a job (follow its ``jobId`` with ``wait``) that
        removes the contacts the import inserted and restores those it updated, unless they
        changed since."""
        return await self._client._send(calls.undo_job(job_id))

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = None,
        poll_interval: float = 0.5,
        on_progress: Callable[[JobOut], None] | None = None,
    ) -> JobOut:
        """Poll until the job is completed, failed or cancelled, and return it.

        ``on_progress`` gets the job after every poll; past ``timeout`` seconds
        :class:`WaitTimeout` is raised with the last state.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = await self.get(job_id)
            if on_progress:
                on_progress(job)
            if job.state in calls.FINISHED_STATES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"job {job_id} is still {job.state} after {timeout} s", job)
            await sleep(poll_interval)


class Campaigns(_Resource):
    """Campaigns (CONTRACT §5): bodies as dicts or as the wire models."""

    async def create(
        self, body: calls.CampaignBodyInput, *, campaign_type: CampaignType | None = None
    ) -> CampaignOut:
        return await self._client._send(calls.create_campaign(body, campaign_type=campaign_type))

    async def get(self, campaign_id: str) -> CampaignOut:
        return await self._client._send(calls.get_campaign(campaign_id))

    async def update(
        self,
        campaign_id: str,
        body: calls.CampaignBodyInput,
        *,
        campaign_type: CampaignType | None = None,
    ) -> CampaignOut:
        return await self._client._send(
            calls.update_campaign(campaign_id, body, campaign_type=campaign_type)
        )

    async def delete(
        self, campaign_id: str, *, campaign_type: CampaignType | None = None
    ) -> CampaignOut:
        return await self._client._send(
            calls.delete_campaign(campaign_id, campaign_type=campaign_type)
        )

    async def status(self, campaign_id: str) -> CampaignStatusOut:
        return await self._client._send(calls.campaign_status(campaign_id))

    async def list(
        self,
        campaign_type: CampaignType,
        *,
        skip: int | None = None,
        page: int | None = None,
        limit: int | None = None,
        sort_by: Mapping[str, str] | None = None,
        filters: Mapping[str, list[str]] | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> CampaignPage:
        return await self._client._send(
            calls.list_campaigns(
                campaign_type,
                skip=skip,
                page=page,
                limit=limit,
                sort_by=sort_by,
                filters=filters,
                start_date=start_date,
                end_date=end_date,
            )
        )

    async def trigger(
        self, campaign_id: str, action: Trigger, *, campaign_type: CampaignType | None = None
    ) -> TriggerResult:
        return await self._client._send(
            calls.trigger_campaign(campaign_id, action, campaign_type=campaign_type)
        )

    async def play(self, campaign_id: str) -> TriggerResult:
        return await self.trigger(campaign_id, "play")

    async def pause(self, campaign_id: str) -> TriggerResult:
        return await self.trigger(campaign_id, "pause")

    async def resume(self, campaign_id: str) -> TriggerResult:
        return await self.trigger(campaign_id, "resume")

    async def stop(self, campaign_id: str) -> TriggerResult:
        return await self.trigger(campaign_id, "stop")


class Dialer(_Resource):
    """Who may be called now (CONTRACT §9): leases, outcomes and counts of a campaign."""

    async def next(
        self, campaign_id: str, *, limit: int, dialer_id: str, lease_seconds: int | None = None
    ) -> list[LeasedContact]:
        """Lease up to ``limit`` contacts that may be called now; never retried."""
        return await self._client._send(
            calls.dialer_next(
                campaign_id, limit=limit, dialer_id=dialer_id, lease_seconds=lease_seconds
            )
        )

    async def outcome(
        self, campaign_id: str, results: Iterable[OutcomeItem | Mapping[str, Any]]
    ) -> list[OutcomeResult]:
        """Report what happened on leases; a repeated report counts once."""
        return await self._client._send(calls.dialer_outcome(campaign_id, results))

    async def summary(self, campaign_id: str) -> Summary:
        return await self._client._send(calls.dialer_summary(campaign_id))


class Dnc(_Resource):
    """Do-not-call lists (CONTRACT §8)."""

    async def check(self, phone_numbers: Iterable[str]) -> list[DncResult]:
        """Which of up to 50,000 numbers the bot's DNC lists hold now, in the order given."""
        return await self._client._send(calls.dnc_check(phone_numbers))
