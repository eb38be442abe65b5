"""What the SDK retries, and what it never sends twice (a fake service: the real one cannot fail
on cue).

Reads are retried after a 502/503/504 or a broken connection; every call after a 429, which the
service answers before doing anything; a POST that may have reached the service never.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from contactlists.client import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    Client,
    InternalServerError,
    RateLimitedError,
    RetryPolicy,
)
from tests.support.sdk import (
    BOT,
    CLIENT_ID,
    CLIENT_SECRET,
    LIST_ID,
    Answer,
    BreakingStream,
    Recorder,
    accepted_answer,
    envelope,
    job_answer,
    list_answer,
    pipe_with,
)


def bad_gateway() -> httpx.Response:
    return httpx.Response(502, text="<html><body>502 Bad Gateway</body></html>")


def rate_limited(retry_after: str | None = "1") -> httpx.Response:
    response = envelope(429, "rate_limited", "Too many requests in a minute.")
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def test_a_429_is_retried_after_the_seconds_retry_after_asks_for() -> None:
    fake = Recorder([rate_limited("1"), list_answer()])
    # The default backoff, so that only Retry-After can explain the wait.
    with fake.client(retry=None) as api:
        started = time.monotonic()
        got = api.lists.get(LIST_ID)
        elapsed = time.monotonic() - started

    assert got.id == LIST_ID
    assert len(fake.requests) == 2
    assert 0.9 <= elapsed < 3.0


def test_a_429_on_a_post_is_retried_too_as_the_service_did_nothing() -> None:
    fake = Recorder([rate_limited("0"), list_answer()])
    with fake.client() as api:
        created = api.lists.create("Fake")

    assert created.id == LIST_ID
    assert [request.method for request in fake.requests] == ["POST", "POST"]
    assert fake.json_bodies() == [{"name": "Fake"}, {"name": "Fake"}]


def test_rate_limits_that_last_give_up_with_retry_after_known() -> None:
    fake = Recorder([rate_limited("0")] * 3)
    with fake.client() as api, pytest.raises(RateLimitedError) as raised:
        api.lists.get(LIST_ID)

    assert len(fake.requests) == 3
    assert raised.value.status_code == 429
    assert raised.value.retry_after == 0.0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_on_a_get_are_retried_until_it_succeeds(status: int) -> None:
    fake = Recorder([httpx.Response(status, text="upstream down"), bad_gateway(), list_answer()])
    with fake.client() as api:
        got = api.lists.get(LIST_ID)

    assert got.name == "Fake"
    assert [request.method for request in fake.requests] == ["GET"] * 3


def test_gateway_errors_that_last_give_up_after_max_retries() -> None:
    fake = Recorder([bad_gateway()] * 4)
    policy = RetryPolicy(max_retries=3, backoff_base=0.001)
    with fake.client(retry=policy) as api, pytest.raises(APIError) as raised:
        api.lists.get(LIST_ID)

    assert len(fake.requests) == 4
    # A proxy's page is no envelope: the plain class, with the status.
    assert type(raised.value) is APIError
    assert raised.value.status_code == 502


def test_backoff_grows_between_retries() -> None:
    fake = Recorder([bad_gateway()] * 3)
    moments: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        moments.append(time.monotonic())
        return fake.handle(request)

    policy = RetryPolicy(max_retries=2, backoff_base=0.1, backoff_max=1.0)
    with (
        Client(
            "http://contactlists.test",
            bot=BOT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=policy,
            transport=httpx.MockTransport(handle),
        ) as api,
        pytest.raises(APIError),
    ):
        api.lists.get(LIST_ID)

    first, second = moments[1] - moments[0], moments[2] - moments[1]
    # Half to all of 0.1 s, then half to all of 0.2 s (upper bounds loose for busy machines).
    assert 0.05 <= first < 0.1 + 0.4
    assert 0.1 <= second < 0.2 + 0.4


def test_an_error_with_an_envelope_after_retries_is_its_own_class() -> None:
    fake = Recorder([envelope(503, "internal_error")] * 3)
    with fake.client() as api, pytest.raises(InternalServerError) as raised:
        api.jobs.get("job-1")
    assert len(fake.requests) == 3
    assert raised.value.status_code == 503


POSTS: dict[str, Callable[[Client], object]] = {
    "create list": lambda api: api.lists.create("Once"),
    "addContacts": lambda api: api.contacts.add("Once", [{"phoneNumber": "+14155550100"}]),
    "upload": lambda api: api.contacts.upload(LIST_ID, b"phoneNumber\r\n+14155550100\r\n"),
    "trigger": lambda api: api.campaigns.play("cd-1"),
}


@pytest.mark.parametrize("operation", sorted(POSTS))
def test_gateway_errors_on_a_post_are_not_retried(operation: str) -> None:
    fake = Recorder([httpx.Response(503, text="busy")])
    with fake.client() as api, pytest.raises(APIError) as raised:
        POSTS[operation](api)

    assert raised.value.status_code == 503
    assert len(fake.requests) == 1
    assert fake.requests[0].method == "POST"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadError("connection reset by peer"),
        httpx.RemoteProtocolError("server disconnected without sending a response"),
    ],
)
def test_a_post_whose_connection_broke_is_sent_once_and_said_to_maybe_have_happened(
    failure: Exception,
) -> None:
    fake = Recorder([failure, list_answer()])
    with fake.client() as api, pytest.raises(APIConnectionError) as raised:
        api.lists.create("Maybe")

    assert len(fake.requests) == 1
    assert fake.json_bodies() == [{"name": "Maybe"}]
    message = str(raised.value)
    assert "may have been carried out" in message
    assert "not sent again" in message
    assert "POST /contactList/createContactList" in message
    assert isinstance(raised.value.__cause__, type(failure))


def test_an_upload_whose_connection_broke_is_sent_once() -> None:
    fake = Recorder([httpx.ReadError("reset"), accepted_answer()])
    with fake.client() as api, pytest.raises(APIConnectionError, match="not sent again"):
        api.contacts.upload(LIST_ID, b"phoneNumber\r\n+14155550100\r\n")
    assert len(fake.requests) == 1


def test_a_post_that_could_not_connect_says_nothing_was_done() -> None:
    fake = Recorder([httpx.ConnectError("connection refused")])
    with fake.client() as api, pytest.raises(APIConnectionError) as raised:
        api.lists.create("Never sent")
    assert len(fake.requests) == 1
    assert "may have been carried out" not in str(raised.value)


def test_a_get_whose_connection_broke_is_retried_and_succeeds() -> None:
    fake = Recorder([httpx.ReadError("reset"), httpx.RemoteProtocolError("eof"), list_answer()])
    with fake.client() as api:
        got = api.lists.get(LIST_ID)
    assert got.id == LIST_ID
    assert len(fake.requests) == 3


def test_a_get_whose_connection_keeps_breaking_gives_up_saying_how_often_it_tried() -> None:
    fake = Recorder([httpx.ReadError("reset")] * 3)
    with fake.client() as api, pytest.raises(APIConnectionError) as raised:
        api.lists.get(LIST_ID)
    assert len(fake.requests) == 3
    assert "after 3 attempts" in str(raised.value)
    assert not isinstance(raised.value, APITimeoutError)


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (lambda: httpx.Response(503), APIError),
        (lambda: httpx.ReadError("reset"), APIConnectionError),
        (rate_limited, RateLimitedError),
    ],
)
def test_max_retries_zero_sends_each_call_once(
    answer: Callable[[], Answer], raised: type[Exception]
) -> None:
    fake = Recorder([answer(), list_answer()])
    with fake.client(retry=None, max_retries=0) as api, pytest.raises(raised):
        api.lists.get(LIST_ID)
    assert len(fake.requests) == 1


def test_a_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_no_answer_within_the_timeout_is_an_api_timeout_error(silent_server: str) -> None:
    policy = RetryPolicy(max_retries=1, backoff_base=0.001)
    started = time.monotonic()
    with (
        Client(
            silent_server,
            bot=BOT,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            timeout=0.2,
            retry=policy,
        ) as api,
        pytest.raises(APITimeoutError) as raised,
    ):
        api.lists.get(LIST_ID)
    # A read is retried: two attempts of 0.2 s each.
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0
    assert "after 2 attempts" in str(raised.value)
    assert isinstance(raised.value, APIConnectionError)


def test_a_post_timing_out_is_not_sent_again(silent_server: str) -> None:
    started = time.monotonic()
    with (
        Client(
            silent_server, bot=BOT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, timeout=0.2
        ) as api,
        pytest.raises(APITimeoutError, match="may have been carried out"),
    ):
        api.lists.create("Slow")
    assert time.monotonic() - started < 1.0


def test_an_export_broken_mid_body_is_not_retried_into_the_same_file() -> None:
    # Retrying would write the first rows twice.
    header = b"_id,phoneNumber,createdAt\r\n"
    fake = Recorder(
        [
            httpx.Response(200, stream=BreakingStream([header, b"cc-1,+14155550100,x\r\n"])),
            httpx.Response(200, content=header),
        ]
    )
    sink = io.BytesIO()
    with fake.client() as api, pytest.raises(APIConnectionError):
        api.contacts.export(LIST_ID, sink)
    assert len(fake.requests) == 1


def test_an_export_is_retried_when_it_fails_before_its_body() -> None:
    body = b"_id,phoneNumber,createdAt\r\ncc-1,+14155550100,x\r\n"
    fake = Recorder([bad_gateway(), httpx.Response(200, content=body)])
    sink = io.BytesIO()
    with fake.client() as api:
        written = api.contacts.export(LIST_ID, sink)
    assert written == 1
    assert sink.getvalue() == body
    assert len(fake.requests) == 2


def test_an_upload_retried_after_a_429_sends_the_whole_file_again() -> None:
    data = b"phoneNumber\r\n+14155550100\r\n+14155550101\r\n"
    fake = Recorder([rate_limited("0"), accepted_answer()])
    with fake.client() as api:
        api.contacts.upload(LIST_ID, data)
    assert len(fake.requests) == 2
    assert all(data in body for body in fake.bodies)


def test_an_upload_from_a_pipe_is_sent_chunked_and_never_again() -> None:
    # Its bytes are gone once read: after a 429 there is nothing left to send.
    data = b"phoneNumber\r\n+14155550100\r\n"
    fake = Recorder([rate_limited("0"), accepted_answer()])
    with fake.client() as api, pipe_with(data) as source, pytest.raises(RateLimitedError):
        api.contacts.upload(LIST_ID, source)
    assert len(fake.requests) == 1
    assert fake.requests[0].headers["transfer-encoding"] == "chunked"
    assert "content-length" not in fake.requests[0].headers
    assert data in fake.bodies[0]


def test_idempotent_posts_are_retried() -> None:
    # Cancelling a job, restoring a list, asking a campaign's status, getting all campaigns:
    # none changes anything twice.
    fake = Recorder([bad_gateway(), job_answer("cancelled")])
    with fake.client() as api:
        job = api.jobs.cancel("job-1")
    assert job.state == "cancelled"
    assert [request.method for request in fake.requests] == ["POST", "POST"]
