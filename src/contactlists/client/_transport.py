"""What the sync and async clients share: settings, headers, the retry decisions, uploads."""

from __future__ import annotations

import io
import json
import os
import stat
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
from pydantic import ValidationError

from contactlists import __version__
from contactlists.client._auth import TokenSource
from contactlists.client._calls import Call
from contactlists.client._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    error_from_response,
)
from contactlists.client._retry import RetryPolicy

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
USER_AGENT = f"contactlists-python/{__version__}"
# A file to upload: a path, bytes, or an open binary file.
UploadSource = str | os.PathLike[str] | bytes | IO[bytes]
NO_RETRIES = RetryPolicy(max_retries=0)
DEFAULT_FILE_NAME = "contacts.csv"
# Called with (bytes sent, total bytes or None) as an upload goes out.
UploadProgress = Callable[[int, int | None], None]
# What a client's retry loop calls to send a request once (unasync makes AsyncSender Sender).
AsyncSender = Callable[[], Awaitable[httpx.Response]]
Sender = Callable[[], httpx.Response]


@dataclass(frozen=True)
class Connection:
    """Where the service is and who the caller is: everything a request's headers need."""

    base_url: str
    bot: str
    tokens: TokenSource
    account_id: str | None = None

    def headers(self) -> dict[str, str]:
        # Kore.ai's current pages require `iid` (the bot) on every call; this service checks it
        # against the path when present.
        headers = {"auth": self.tokens.token(), "iid": self.bot, "user-agent": USER_AGENT}
        if self.account_id:
            headers["accountId"] = self.account_id
        return headers


def connection(
    base_url: str,
    *,
    bot: str,
    client_id: str | None,
    client_secret: str | None,
    token: str | None,
    account_id: str | None,
    sub: str | None,
    token_lifetime: int,
) -> Connection:
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, not {base_url!r}")
    if not bot:
        raise ValueError("bot (the bot or app id, st-…) is required")
    tokens = TokenSource(
        client_id=client_id,
        client_secret=client_secret,
        token=token,
        sub=sub,
        lifetime_seconds=token_lifetime,
    )
    return Connection(base_url.rstrip("/"), bot, tokens, account_id)


def request_kwargs(call: Call[Any], conn: Connection) -> dict[str, Any]:
    return {
        "method": call.method,
        "url": call.url(conn.bot),
        "params": call.params,
        "json": call.json,
        "headers": conn.headers(),
    }


class Attempts:
    """The retry loop's decisions for one call, shared by both clients.

    Each ``after_*`` method returns how long to wait before the next attempt, or raises the
    exception the caller gets.
    """

    def __init__(self, call: Call[Any], policy: RetryPolicy) -> None:
        self.call = call
        self.policy = policy
        self.made = 0

    def after_answer(self, response: httpx.Response) -> float:
        delay = self.policy.answer_delay(response, self.made, self.call.idempotent)
        if delay is None:
            raise error_from_response(response)
        self.made += 1
        return delay

    def after_failure(self, failure: httpx.TransportError) -> float:
        delay = self.policy.failure_delay(self.made, self.call.idempotent)
        if delay is None:
            raise connection_error(self.call, failure, self.made) from failure
        self.made += 1
        return delay


def connection_error(
    call: Call[Any] | None, failure: httpx.TransportError, retries: int
) -> APIConnectionError:
    what = f"{call.method} {call.path or '/'}" if call else "the request"
    detail = str(failure) or type(failure).__name__
    tried = f" after {retries + 1} attempts" if retries else ""
    unsent = isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout)
    if call is not None and not call.idempotent and not unsent:
        # The service may have done it; sending it again could do it twice.
        detail += "; it may have been carried out, so it was not sent again"
    kind = APITimeoutError if isinstance(failure, httpx.TimeoutException) else APIConnectionError
    return kind(f"{what} failed{tried}: {detail}")


def read_answer(call: Call[T], response: httpx.Response) -> T:
    """The call's result from a success answer; an answer of another shape is an APIError."""
    try:
        return call.read(response)
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise APIError(
            f"unexpected answer to {call.method} {call.path or '/'}: {exc}",
            status_code=response.status_code,
            request_id=response.headers.get("x-request-id"),
            response=response,
        ) from exc


class ProgressReader:
    """A binary file that reports how much of it was read: an upload's progress."""

    def __init__(self, file: IO[bytes], report: UploadProgress, total: int | None) -> None:
        self._file = file
        self._report = report
        self._total = total

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._report(self._file.tell(), self._total)
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def fileno(self) -> int:
        return self._file.fileno()


class StreamReader:
    """A file that can be read only once, to its end: a pipe, a socket, standard input.

    It offers nothing but ``read``, so httpx sends it chunked: for a pipe, ``fstat`` gives a
    size of 0, and a Content-Length from it would cut the upload short.
    """

    def __init__(self, file: IO[bytes], report: UploadProgress | None) -> None:
        self._file = file
        self._report = report
        self._sent = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._file.read(size)
        self._sent += len(chunk)
        if self._report:
            self._report(self._sent, None)
        return chunk


@dataclass(frozen=True)
class UploadPart:
    """The multipart file part of an upload; ``rewindable`` when it can be sent again."""

    name: str
    file: Any
    rewindable: bool


def _measure(file: IO[bytes]) -> int | None:
    """The size of a file that can be read again from its start, else None."""
    try:
        mode = os.fstat(file.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        pass
    else:
        if not stat.S_ISREG(mode):
            return None
    try:
        if not file.seekable():
            return None
        here = file.tell()
        size = file.seek(0, os.SEEK_END)
        file.seek(here)
        return size
    except (AttributeError, OSError, ValueError):
        return None


@contextmanager
def upload_file(
    source: UploadSource, file_name: str | None, progress: UploadProgress | None
) -> Iterator[UploadPart]:
    """The file part for an upload; a path is opened and closed here."""
    if isinstance(source, bytes):
        with io.BytesIO(source) as buffer:
            yield _part(file_name or DEFAULT_FILE_NAME, buffer, progress)
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as opened:
            yield _part(file_name or path.name, opened, progress)
    else:
        named = getattr(source, "name", None)
        # A file opened from a descriptor is named by its number, standard input "<stdin>":
        # neither names a file for the service.
        real = isinstance(named, str) and named and not named.startswith("<")
        usable = Path(str(named)).name if real else DEFAULT_FILE_NAME
        yield _part(file_name or usable, source, progress)


def _part(name: str, file: IO[bytes], progress: UploadProgress | None) -> UploadPart:
    size = _measure(file)
    if size is None:
        return UploadPart(name, StreamReader(file, progress), rewindable=False)
    reader = ProgressReader(file, progress, size) if progress else file
    return UploadPart(name, reader, rewindable=True)
