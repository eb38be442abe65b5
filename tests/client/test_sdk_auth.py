"""The SDK's credentials: JWTs minted from the app's secret and renewed in time, or a token as
given; the headers every request carries; what a client cannot be made without."""

from __future__ import annotations

import subprocess
import sys

import httpx
import jwt
import pytest

from contactlists.client import Client
from contactlists.client._auth import REFRESH_MARGIN_SECONDS, TokenSource
from contactlists.tokens import mint_token
from tests.support.live import LiveService
from tests.support.sdk import BOT, CLIENT_ID, CLIENT_SECRET, LIST_ID, Recorder, list_answer


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def claims(token: str, secret: str = CLIENT_SECRET) -> dict[str, object]:
    decoded: dict[str, object] = jwt.decode(
        token, secret, algorithms=["HS256"], options={"verify_exp": False, "verify_iat": False}
    )
    return decoded


def test_minted_tokens_name_the_app_and_expire_after_their_lifetime() -> None:
    clock = Clock(1_750_000_000.0)
    source = TokenSource(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        sub="u-batch",
        lifetime_seconds=600,
        clock=clock,
    )

    token = source.token()

    assert claims(token) == {
        "appId": CLIENT_ID,
        "sub": "u-batch",
        "iat": 1_750_000_000,
        "exp": 1_750_000_600,
    }
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_token_is_reused_until_shortly_before_it_expires_then_renewed() -> None:
    clock = Clock(1_000_000.0)
    source = TokenSource(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, lifetime_seconds=600, clock=clock
    )
    first = source.token()

    clock.now += 600 - REFRESH_MARGIN_SECONDS - 1
    assert source.token() == first

    clock.now += 1
    renewed = source.token()
    assert renewed != first
    assert claims(renewed)["iat"] == 1_000_000 + 600 - REFRESH_MARGIN_SECONDS
    # Renewed well before the old one expires, beyond the server's 60 s of leeway.
    assert int(str(claims(first)["exp"])) - clock.now >= REFRESH_MARGIN_SECONDS

    clock.now += 1
    assert source.token() == renewed


def test_a_given_token_is_sent_as_it_is_and_never_renewed() -> None:
    clock = Clock(0.0)
    source = TokenSource(token="opaque.token.value", clock=clock)
    assert source.token() == "opaque.token.value"
    clock.now += 10 * 365 * 86400
    assert source.token() == "opaque.token.value"


def test_a_lifetime_within_the_refresh_margin_is_refused() -> None:
    with pytest.raises(ValueError, match="lifetime_seconds"):
        TokenSource(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, lifetime_seconds=60)


def test_requests_carry_the_raw_jwt_in_auth_and_the_account_when_given() -> None:
    fake = Recorder([list_answer(), list_answer()])
    with fake.client(account_id="a" * 24, sub="u-me") as api:
        api.lists.get(LIST_ID)
        api.lists.get(LIST_ID)

    for request in fake.requests:
        token = request.headers["auth"]
        assert not token.lower().startswith("bearer")
        assert claims(token)["appId"] == CLIENT_ID
        assert claims(token)["sub"] == "u-me"
        assert request.headers["accountId"] == "a" * 24
        assert request.headers["iid"] == BOT
        assert "authorization" not in request.headers
        assert request.headers["user-agent"].startswith("contactlists-python/")
        assert request.url.path == f"/campaign/api/v2/public/{BOT}/campaign/contactList/{LIST_ID}"
    # One token serves both requests.
    assert fake.requests[0].headers["auth"] == fake.requests[1].headers["auth"]


def test_no_account_header_without_an_account() -> None:
    fake = Recorder([list_answer()])
    with fake.client() as api:
        api.lists.get(LIST_ID)
    assert "accountid" not in {key.lower() for key in fake.requests[0].headers}


def test_a_static_token_is_sent_unchanged() -> None:
    fake = Recorder([list_answer()])
    with Client(
        "http://contactlists.test",
        bot=BOT,
        token="given-token",
        transport=httpx.MockTransport(fake.handle),
    ) as api:
        api.lists.get(LIST_ID)
    assert fake.requests[0].headers["auth"] == "given-token"


def test_path_parts_cannot_leave_their_segment() -> None:
    fake = Recorder([list_answer()])
    with fake.client() as api:
        api.lists.get("../../x?force=true")
    assert (
        fake.requests[0].url.raw_path.decode().endswith("/contactList/..%2F..%2Fx%3Fforce%3Dtrue")
    )
    assert not fake.requests[0].url.query


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"client_id": CLIENT_ID},
        {"client_secret": CLIENT_SECRET},
        {"client_id": "", "client_secret": ""},
    ],
)
def test_a_client_without_credentials_is_refused(credentials: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="client_id and client_secret"):
        Client("http://127.0.0.1:8000", bot=BOT, **credentials)


@pytest.mark.parametrize("base_url", ["127.0.0.1:8000", "ftp://example.com", "", "localhost"])
def test_a_base_url_that_is_not_http_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        Client(base_url, bot=BOT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def test_a_client_without_a_bot_is_refused() -> None:
    with pytest.raises(ValueError, match="bot"):
        Client("http://127.0.0.1:8000", bot="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def test_a_trailing_slash_on_the_base_url_is_harmless() -> None:
    fake = Recorder([list_answer()])
    with Client(
        "http://contactlists.test/",
        bot=BOT,
        token="t",
        transport=httpx.MockTransport(fake.handle),
    ) as api:
        api.lists.get(LIST_ID)
    assert fake.requests[0].url.path.startswith("/campaign/api/v2/public/")


def test_importing_the_sdk_loads_no_server_framework() -> None:
    script = (
        "import sys\n"
        "import contactlists.client\n"
        "heavy = ('sqlalchemy', 'fastapi', 'starlette', 'alembic', 'uvicorn')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout


# ---------------------------------------------------------------- against the real service


def test_the_service_accepts_minted_tokens_and_records_their_sub(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client(sub="u-importer") as api:
        created = api.lists.create("Signed")
    assert created.createdBy == "u-importer"


def test_the_service_accepts_a_token_given_as_is(live: LiveService) -> None:
    tenant = live.tenant()
    token = mint_token(tenant.client_id, tenant.client_secret, sub="u-static")
    with Client(tenant.base_url, bot=tenant.bot, token=token) as api:
        created = api.lists.create("Static")
        assert api.lists.get(created.id).updatedBy == "u-static"
