"""``Client.lists`` against a real service: create, get, list, update, delete, force, restore."""

from __future__ import annotations

import pytest

from contactlists.client import ContactList, ContactListSummary, DuplicateNameError, NotFoundError
from tests.support.campaigns import voice_body
from tests.support.live import LiveService
from tests.support.sdk import people


def test_create_then_get_answer_the_same_list(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client(sub="u-maker") as api:
        created = api.lists.create(
            "  Spring renewals ",
            description="Customers due in April",
            allow_duplicates=True,
            list_type="sms",
            default_region="GB",
            source="passiveApiIntegration",
        )
        got = api.lists.get(created.id)

    assert isinstance(created, ContactList)
    assert created.id.startswith("cl-")
    assert created.name == "Spring renewals"
    assert created.description == "Customers due in April"
    assert created.allowDuplicates is True
    assert created.apiConfigurations.dataSyncMode == "allowDuplicates"
    assert created.listType == "sms"
    assert created.defaultRegion == "GB"
    assert created.source == "passiveApiIntegration"
    assert created.createdBy == created.updatedBy == "u-maker"
    assert created.totalRecordCount == 0
    assert created.status == "Ready"
    assert got == created


def test_create_with_defaults(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Plain")
    assert created.description == ""
    assert created.allowDuplicates is False
    assert created.listType == "call"
    assert created.source == "passiveApi"
    assert created.createdBy == tenant.client_id


def test_list_filters_pages_and_searches(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        made = [api.lists.create(name) for name in ("North calls", "South calls", "West texts")]
        texts = api.lists.create("East texts", list_type="sms")

        every = api.lists.list()
        calls = api.lists.list(list_type="call")
        sms = api.lists.list(list_type="sms")
        searched = api.lists.list(search="CALLS")
        first_two = api.lists.list(limit=2)
        rest = api.lists.list(skip=2, limit=2)

    assert all(isinstance(item, ContactListSummary) for item in every)
    # The most recently updated first.
    assert [item.id for item in every] == [texts.id, *(m.id for m in reversed(made))]
    assert [item.name for item in calls] == ["West texts", "South calls", "North calls"]
    assert [item.id for item in sms] == [texts.id]
    assert {item.name for item in searched} == {"North calls", "South calls"}
    assert [item.id for item in first_two + rest] == [item.id for item in every]


def test_the_default_dnc_list_shows_only_when_asked_for(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Calls")
        api.campaigns.create(voice_body("Uses the DNC list", ["Calls"]))
        dnc = api.lists.list(list_type="dnc")
        default = api.lists.list()
    assert [(item.name, item.listType) for item in dnc] == [("Default Global DNC", "dnc")]
    assert [item.name for item in default] == ["Calls"]


def test_update_changes_only_what_is_given(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Before", description="kept")
    with tenant.client(sub="u-editor") as api:
        updated = api.lists.update(created.id, name="After", allow_duplicates=True)
        unchanged = api.lists.update(created.id)
        got = api.lists.get(created.id)

    assert updated.contactListId == created.id
    assert updated.body.name == "After"
    assert updated.body.allowDuplicates is True
    assert updated.body.description is None
    assert updated.body.updatedBy == "u-editor"
    assert updated.body.scope == ["campaign_management"]
    assert unchanged.body.name is None
    assert got.name == "After"
    assert got.description == "kept"
    assert got.allowDuplicates is True
    assert got.updatedBy == "u-editor"
    assert got.createdBy == tenant.client_id


def test_update_region_and_description(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Regional")
        api.lists.update(created.id, description="UK numbers", default_region="GB")
        got = api.lists.get(created.id)
    assert (got.description, got.defaultRegion) == ("UK numbers", "GB")


def test_delete_answers_the_list_as_it_was_and_frees_its_name(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Doomed")
        job = api.contacts.add("Doomed", people(3))
        api.jobs.wait(job.jobId, poll_interval=0.05, timeout=30)
        before = api.lists.get(created.id)

        deleted = api.lists.delete(created.id)

        assert deleted == before
        assert deleted.totalRecordCount == 3
        with pytest.raises(NotFoundError):
            api.lists.get(created.id)
        with pytest.raises(NotFoundError):
            api.lists.delete(created.id)
        assert api.lists.list() == []
        reused = api.lists.create("Doomed")
        assert reused.id != created.id


def test_force_delete_detaches_the_list_from_its_campaigns(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        used = api.lists.create("Used")
        api.lists.create("Spare")
        campaign = api.campaigns.create(voice_body("Dialer", ["Used", "Spare"]))

        deleted = api.lists.delete(used.id, force=True)

        assert [ref.name for ref in deleted.campaignInUse] == ["Dialer"]
        with pytest.raises(NotFoundError):
            api.lists.get(used.id)
        assert api.campaigns.get(campaign.id).contactLists == ["Spare"]


def test_restore_brings_a_deleted_list_back_with_its_contacts(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Second chance")
        job = api.contacts.add("Second chance", people(4))
        api.jobs.wait(job.jobId, poll_interval=0.05, timeout=30)
        api.lists.delete(created.id)

        restored = api.lists.restore(created.id)

        assert restored.id == created.id
        assert restored.name == "Second chance"
        assert restored.totalRecordCount == 4
        assert api.lists.get(created.id).totalRecordCount == 4
        assert len(list(api.contacts.list(created.id))) == 4
        # A live list cannot be restored.
        with pytest.raises(NotFoundError):
            api.lists.restore(created.id)


def test_restore_is_refused_when_the_name_was_taken_meanwhile(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        created = api.lists.create("Taken")
        api.lists.delete(created.id)
        api.lists.create("TAKEN")
        with pytest.raises(DuplicateNameError):
            api.lists.restore(created.id)
