"""Who may do what in the console: a read-only app, a wrong secret, a token that expires."""

from __future__ import annotations

import time
import uuid

import pytest

from contactlists.apps import service as apps
from contactlists.tokens import mint_token
from tests.console.conftest import ConsolePage
from tests.support.live import LiveService

pytestmark = pytest.mark.serial


def test_a_read_only_app_sees_everything_and_is_offered_no_write(
    console: ConsolePage, console_service: LiveService
) -> None:
    manager = console_service.tenant()
    reader = console_service.tenant(scopes=[apps.SCOPE_READ], of=manager)
    name = f"Read me {uuid.uuid4().hex[:6]}"
    with manager.client() as sdk:
        created = sdk.lists.create(name)
    list_id = created.id

    console.sign_in(reader.client_id, reader.client_secret, reader.bot)
    console.wait_text("#who", "read-only")
    row = console.wait_text("#lists tbody tr", name)
    assert "Ready" in row
    assert console.all("#create-list") == []
    assert console.buttons("#view") == ["Search", "Previous", "Next"]

    console.open(f"#/lists/{list_id}")
    console.wait_text("h1", name)
    console.wait_text("#contacts tbody", "No contacts yet.")
    assert console.all("#import input[type=file]") == []
    assert "Delete selected" not in console.buttons("#view")
    console.open("#/campaigns")
    console.wait_text("h1", "Campaigns")
    assert console.all("#create-campaign") == []

    # A console tampered with to offer a delete anyway: the API refuses, the page says why.
    console.driver.execute_script(
        "const s = JSON.parse(sessionStorage.getItem('contactlists.session'));"
        "s.readOnly = false; sessionStorage.setItem('contactlists.session', JSON.stringify(s));"
    )
    console.driver.refresh()
    console.open("#/lists")
    import time as _t

    _t.sleep(3)
    console.driver.save_screenshot("/tmp/shots/dbg.png")
    console.click("Delete", f'#lists tr[data-id="{list_id}"]')
    console.click("Delete", "#dialog")
    console.wait_text("#dialog-error", "The app's scopes do not allow this request.")
    console.click("Cancel", "#dialog")
    with manager.client() as sdk:
        assert sdk.lists.get(list_id).name == name


def test_a_wrong_secret_is_refused_and_kept_nowhere(
    console: ConsolePage, console_service: LiveService
) -> None:
    tenant = console_service.tenant()
    wrong = "not-the-secret-" + uuid.uuid4().hex

    console.sign_in(tenant.client_id, wrong, tenant.bot)

    console.wait_text("#notice", "The client id or the client secret is wrong.")
    console.find("#signin-form")  # still there, visible
    assert console.all("#lists") == []
    assert console.attribute("#client-secret", "value") == ""
    assert wrong not in console.storage()
    assert wrong not in console.driver.page_source
    assert wrong not in console_service.process.output


def test_an_expired_token_asks_to_sign_in_again_and_loses_nothing(
    console: ConsolePage, console_service: LiveService
) -> None:
    tenant = console_service.tenant()
    name = f"Typed before expiry {uuid.uuid4().hex[:6]}"
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait_text("#lists tbody", "No lists yet.")
    console.fill("New list name", name)

    # The session's token expires (one made an hour ago, valid for a minute).
    expired = mint_token(
        tenant.client_id, tenant.client_secret, expires_in=60, now=time.time() - 3600
    )
    console.driver.execute_script(
        "const s = JSON.parse(sessionStorage.getItem('contactlists.session'));"
        "s.token = arguments[0];"
        "sessionStorage.setItem('contactlists.session', JSON.stringify(s));",
        expired,
    )
    console.click("Create list")

    console.wait_text("#signin-reason", "Your session has ended (Invalid SDK credentials)")
    console.sign_in(tenant.client_id, tenant.client_secret, tenant.bot)
    console.wait(lambda d: d.execute_script("return !document.querySelector('#view').inert"))
    assert console.attribute("#create-list input", "value") == name  # nothing lost
    console.click("Create list")
    console.wait_text("#lists tbody tr", name)
    assert tenant.client_secret not in console.storage()

    # Signing out forgets the token.
    console.click("Sign out")
    console.wait_text("#signin-reason", "You are signed out.")
    assert "contactlists.session" not in console.storage()
    assert console.all("#lists") == []
