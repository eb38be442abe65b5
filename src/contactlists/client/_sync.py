"""``Client``: the blocking SDK. Every method is one call of ``_calls`` (or a loop of them)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
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
from contactlists.client._errors import WaitTimeout
from contactlists.client._retry import RetryPolicy
from contactlists.client._rows import RecordCounter
from contactlists.client._transport import (
    DEFAULT_TIMEOUT,
    NO_RETRIES,
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
from contactlists.contacts.schemas import ContactOut, ContactsDeleted, ContactsPage, JobAccepted
from contactlists.jobs.schemas import JobOut, RowErrorOut
from contactlists.lists.schemas import V2ContactList, V2ContactListSummary, V2UpdateResult

T = TypeVar("T")


class Client:
    """A blocking client of one bot of a contactlists service (or of Kore.ai).

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
        transport: httpx.BaseTransport | None = None,
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
        self._http = httpx.Client(
            base_url=self._connection.base_url, timeout=timeout, transport=transport
        )
        self.lists = Lists(self)
        self.contacts = Contacts(self)
        self.jobs = Jobs(self)
        self.campaigns = Campaigns(self)

    @property
    def bot(self) -> str:
        return self._connection.bot

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _send(self, call: calls.Call[T]) -> T:
        return self._retrying(
            call, self._retry, lambda: self._http.request(**request_kwargs(call, self._connection))
        )

    def _retrying(
        self, call: calls.Call[T], policy: RetryPolicy, send: Callable[[], httpx.Response]
    ) -> T:
        """Send with ``send`` until an answer can be read, or ``policy`` says to give up."""
        attempts = Attempts(call, policy)
        while True:
            try:
                response = send()
            except httpx.TransportError as failure:
                delay = attempts.after_failure(failure)
            else:
                if response.is_success:
                    return read_answer(call, response)
                delay = attempts.after_answer(response)
            time.sleep(delay)

    def _upload(
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
            return self._retrying(
                call,
                self._retry if part.rewindable else NO_RETRIES,
                lambda: self._http.post(
                    call.url(self.bot),
                    files={"file": (part.name, part.file, "text/csv")},
                    data=fields,
                    headers=self._connection.headers(),
                ),
            )

    def _download(self, call: calls.Call[Any], sink: Callable[[bytes], None]) -> None:
        """Stream the answer of a GET into ``sink``; retried only before its body starts."""
        attempts = Attempts(call, self._retry)
        while True:
            received = False
            try:
                with self._http.stream(**request_kwargs(call, self._connection)) as response:
                    if response.is_success:
                        for chunk in response.iter_bytes():
                            received = True
                            sink(chunk)
                        return
                    response.read()
                    delay = attempts.after_answer(response)
            except httpx.TransportError as failure:
                if received:
                    # Part of the body is already with the caller: starting again would repeat it.
                    raise connection_error(call, failure, attempts.made) from failure
                delay = attempts.after_failure(failure)
            time.sleep(delay)


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Lists(_Resource):
    """Contact lists (CONTRACT §4.1–4.5)."""

    def create(
        self,
        name: str,
        *,
        description: str | None = None,
        allow_duplicates: bool | None = None,
        list_type: Literal["call", "sms"] | None = None,
        default_region: str | None = None,
        source: Literal["passiveApi", "passiveApiIntegration"] | None = None,
    ) -> V2ContactList:
        return self._client._send(
            calls.create_list(
                name,
                description=description,
                allow_duplicates=allow_duplicates,
                list_type=list_type,
                default_region=default_region,
                source=source,
            )
        )

    def get(self, list_id: str) -> V2ContactList:
        return self._client._send(calls.get_list(list_id))

    def list(
        self,
        *,
        list_type: calls.ListKind | None = None,
        search: str | None = None,
        skip: int | None = None,
        limit: int | None = None,
    ) -> list[V2ContactListSummary]:
        """The bot's lists, most recently updated first; every one unless ``limit`` is given."""
        return self._client._send(
            calls.list_lists(list_type=list_type, search=search, skip=skip, limit=limit)
        )

    def update(
        self,
        list_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        allow_duplicates: bool | None = None,
        default_region: str | None = None,
    ) -> V2UpdateResult:
        return self._client._send(
            calls.update_list(
                list_id,
                name=name,
                description=description,
                allow_duplicates=allow_duplicates,
                default_region=default_region,
            )
        )

    def delete(self, list_id: str, *, force: bool = False) -> V2ContactList:
        """Delete a list (restorable for the service's trash period); ``force`` detaches it
        from the campaigns that use it first."""
        return self._client._send(calls.delete_list(list_id, force=force))

    def restore(self, list_id: str) -> V2ContactList:
        return self._client._send(calls.restore_list(list_id))


class Contacts(_Resource):
    """The contacts of lists: adding, importing, paging, exporting, single contacts."""

    def add(self, list_name: str, contacts: Iterable[Mapping[str, Any]]) -> JobAccepted:
        """Queue contacts (at most the service's batch size, 10,000 by default) for a list
        named ``list_name``; follow ``jobId`` with ``jobs.wait``."""
        return self._client._send(calls.add_contacts(list_name, contacts))

    def upload(
        self,
        list_id: str,
        file: UploadSource,
        *,
        mapping: Mapping[str, str] | None = None,
        file_name: str | None = None,
        on_progress: UploadProgress | None = None,
    ) -> JobAccepted:
        """Import a CSV file (a path, bytes or a binary file; gzip allowed) into a list.

        ``mapping`` maps our field names to the file's headers; ``on_progress`` is called
        with (bytes sent, total bytes) as the file goes out.
        """
        return self._client._upload(
            calls.upload_contacts(list_id),
            file,
            file_name=file_name,
            fields=calls.upload_fields(mapping),
            progress=on_progress,
        )

    def page(
        self,
        list_id: str,
        *,
        skip: int | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ContactsPage:
        return self._client._send(
            calls.contacts_page(list_id, skip=skip, limit=limit, cursor=cursor)
        )

    def list(self, list_id: str, *, page_size: int = 1000) -> Iterator[ContactOut]:
        """Every contact of a list in insertion order, fetched a page at a time (by cursor)."""
        paging = calls.ContactPaging(page_size)
        while True:
            page = self.page(list_id, **paging.arguments())
            yield from page.results
            if not paging.advance(page):
                return

    def export(
        self,
        list_id: str,
        destination: str | Path | IO[bytes],
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Write a list's contacts as CSV to a path or binary file; returns the contacts
        written. ``on_progress`` gets the running count."""
        counter = RecordCounter()

        def write_to(file: IO[bytes]) -> None:
            def sink(chunk: bytes) -> None:
                file.write(chunk)
                if counter.feed(chunk) and on_progress:
                    on_progress(max(0, counter.records - 1))

            self._client._download(calls.export_contacts(list_id), sink)

        if isinstance(destination, str | Path):
            with Path(destination).open("wb") as file:
                write_to(file)
        else:
            write_to(destination)
        return max(0, counter.total() - 1)

    def get(self, list_id: str, contact_id: str) -> ContactOut:
        return self._client._send(calls.get_contact(list_id, contact_id))

    def update(self, list_id: str, contact_id: str, changes: Mapping[str, Any]) -> ContactOut:
        """Change fields of a contact; a custom field set to None is removed."""
        return self._client._send(calls.update_contact(list_id, contact_id, changes))

    def delete(self, list_id: str, contact_id: str) -> ContactOut:
        return self._client._send(calls.delete_contact(list_id, contact_id))

    def delete_many(self, list_id: str, contact_ids: Iterable[str]) -> ContactsDeleted:
        return self._client._send(calls.delete_contacts(list_id, contact_ids))


class Jobs(_Resource):
    """Import jobs: their progress, row errors, cancelling, and waiting for the end."""

    def get(self, job_id: str) -> JobOut:
        return self._client._send(calls.get_job(job_id))

    def errors(self, job_id: str) -> list[RowErrorOut]:
        return self._client._send(calls.job_errors(job_id))

    def cancel(self, job_id: str) -> JobOut:
        return self._client._send(calls.cancel_job(job_id))

    def wait(
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
            job = self.get(job_id)
            if on_progress:
                on_progress(job)
            if job.state in calls.FINISHED_STATES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise WaitTimeout(f"job {job_id} is still {job.state} after {timeout} s", job)
            time.sleep(poll_interval)


class Campaigns(_Resource):
    """Campaigns (CONTRACT §5): bodies as dicts or as the wire models."""

    def create(
        self, body: calls.CampaignBodyInput, *, campaign_type: CampaignType | None = None
    ) -> CampaignOut:
        return self._client._send(calls.create_campaign(body, campaign_type=campaign_type))

    def get(self, campaign_id: str) -> CampaignOut:
        return self._client._send(calls.get_campaign(campaign_id))

    def update(
        self,
        campaign_id: str,
        body: calls.CampaignBodyInput,
        *,
        campaign_type: CampaignType | None = None,
    ) -> CampaignOut:
        return self._client._send(
            calls.update_campaign(campaign_id, body, campaign_type=campaign_type)
        )

    def delete(self, campaign_id: str, *, campaign_type: CampaignType | None = None) -> CampaignOut:
        return self._client._send(calls.delete_campaign(campaign_id, campaign_type=campaign_type))

    def status(self, campaign_id: str) -> CampaignStatusOut:
        return self._client._send(calls.campaign_status(campaign_id))

    def list(
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
        return self._client._send(
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

    def trigger(
        self, campaign_id: str, action: Trigger, *, campaign_type: CampaignType | None = None
    ) -> TriggerResult:
        return self._client._send(
            calls.trigger_campaign(campaign_id, action, campaign_type=campaign_type)
        )

    def play(self, campaign_id: str) -> TriggerResult:
        return self.trigger(campaign_id, "play")

    def pause(self, campaign_id: str) -> TriggerResult:
        return self.trigger(campaign_id, "pause")

    def resume(self, campaign_id: str) -> TriggerResult:
        return self.trigger(campaign_id, "resume")

    def stop(self, campaign_id: str) -> TriggerResult:
        return self.trigger(campaign_id, "stop")
