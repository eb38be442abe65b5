"""``Client.campaigns`` against a real service: CONTRACT §5 from create to stop."""

from __future__ import annotations

import time

import pytest

from contactlists.client import (
    Campaign,
    CampaignPage,
    CampaignStatus,
    Client,
    InvalidStateError,
    NotFoundError,
    SmsCampaignBody,
    TriggerResult,
    ValidationFailedError,
    VoiceCampaignBody,
)
from tests.support.campaigns import DEFAULT_DNC, sms_body, voice_body
from tests.support.live import LiveService


def test_create_a_voice_campaign_from_a_dict_or_a_model(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client(sub="u-planner") as api:
        api.lists.create("Calls")
        from_dict = api.campaigns.create(voice_body("Renewals", ["Calls"]))
        model = VoiceCampaignBody.model_validate(
            voice_body("Preview run", ["Calls"], mode="Preview", campaignType=None)
        )
        from_model = api.campaigns.create(model)
        got = api.campaigns.get(from_dict.id)
        listed = api.lists.list()

    assert isinstance(from_dict, Campaign)
    assert from_dict.id.startswith("cd-")
    assert (from_dict.name, from_dict.campaignType, from_dict.status) == (
        "Renewals",
        "voice",
        "Ready",
    )
    assert from_dict.dialingMode == "Progressive"
    assert from_dict.queue_name == "Renewals queue"
    assert from_dict.dncLists is not None
    assert from_dict.dncLists.name == DEFAULT_DNC
    assert from_dict.createdBy == "u-planner"
    # The voice create answer (with `id`, not `_id`) reads as the same campaign get shows.
    assert got.id == from_dict.id
    assert got.model_dump(exclude={"campaignInstanceId", "format", "message"}) == (
        from_dict.model_dump(exclude={"campaignInstanceId", "format", "message"})
    )
    # The campaign type came from the model's class.
    assert (from_model.campaignType, from_model.dialingMode, from_model.maxSkips) == (
        "voice",
        "Preview",
        2,
    )
    assert {ref.name for ref in listed[0].campaignInUse} == {"Renewals", "Preview run"}


def test_create_an_sms_campaign(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Texts", list_type="sms")
        created = api.campaigns.create(sms_body("Reminder texts", ["Texts"]))
        model = SmsCampaignBody.model_validate(
            sms_body("Model texts", ["Texts"], campaignType=None, message={"message": "Hi"})
        )
        from_model = api.campaigns.create(model)
        got = api.campaigns.get(created.id)

    assert created == got
    assert (created.campaignType, created.format, created.message) == (
        "sms",
        "simple",
        {"message": "Your plan renews soon."},
    )
    assert created.dialingMode is None
    assert (from_model.campaignType, from_model.message) == ("sms", {"message": "Hi"})


def test_the_campaign_type_may_be_given_apart_from_the_body(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Texts")
        body = sms_body("Typed apart", ["Texts"])
        del body["campaignType"]
        created = api.campaigns.create(body, campaign_type="sms")
        with pytest.raises(ValidationFailedError) as raised:
            api.campaigns.create(sms_body("Mismatch", ["Texts"]), campaign_type="voice")
    assert created.campaignType == "sms"
    # The type given wins over the body's: the SMS body was checked as a voice campaign.
    assert "dialingMode" in {entry.field for entry in raised.value.errors}


def test_create_names_every_missing_list(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Real")
        with pytest.raises(ValidationFailedError) as raised:
            api.campaigns.create(voice_body("Dangling", ["Real", "Ghost", "Phantom"]))
    (entry,) = raised.value.errors
    assert entry.field == "contactLists"
    assert "Ghost" in entry.msg
    assert "Phantom" in entry.msg


def test_update_replaces_the_campaign(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        for name in ("Old", "New"):
            api.lists.create(name)
        created = api.campaigns.create(voice_body("Before", ["Old"]))
        time.sleep(0.01)
    with tenant.client(sub="u-editor") as api:
        updated = api.campaigns.update(
            created.id, voice_body("After", ["New"], mode="Agentless", priority="5")
        )
        got = api.campaigns.get(created.id)
        lists = {item.name: item for item in api.lists.list()}

    assert updated == got
    assert (updated.name, updated.priority, updated.dialingMode) == ("After", "5", "Agentless")
    assert updated.experienceFlowName == "Renewal flow"
    assert updated.queue_name is None
    assert updated.contactLists == ["New"]
    assert updated.updatedBy == "u-editor"
    assert updated.createdAt == created.createdAt
    assert updated.updatedAt > created.updatedAt
    assert lists["Old"].campaignInUse == []
    assert [ref.name for ref in lists["New"].campaignInUse] == ["After"]


def test_update_an_sms_campaign(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Texts")
        created = api.campaigns.create(sms_body("Texts", ["Texts"]))
        updated = api.campaigns.update(
            created.id, sms_body("Texts", ["Texts"], message={"message": "New text"})
        )
    assert updated.id == created.id
    assert updated.message == {"message": "New text"}


def test_delete_answers_the_campaign_and_frees_its_lists(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        calls = api.lists.create("Calls")
        created = api.campaigns.create(voice_body("Doomed", ["Calls"]))
        before = api.campaigns.get(created.id)

        deleted = api.campaigns.delete(created.id, campaign_type="voice")

        assert deleted == before
        with pytest.raises(NotFoundError):
            api.campaigns.get(created.id)
        with pytest.raises(NotFoundError):
            api.campaigns.delete(created.id)
        assert api.lists.get(calls.id).campaignInUse == []
        # Without a campaign type too.
        again = api.campaigns.create(voice_body("Doomed", ["Calls"]))
        assert api.campaigns.delete(again.id).id == again.id


def test_status_answers_id_status_and_name(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Calls")
        created = api.campaigns.create(voice_body("Watched", ["Calls"]))
        status = api.campaigns.status(created.id)
    assert isinstance(status, CampaignStatus)
    assert (status.id, status.status, status.name) == (created.id, "Ready", "Watched")


@pytest.mark.parametrize("campaign_type", ["voice", "sms"])
def test_the_whole_lifecycle_play_pause_resume_stop(live: LiveService, campaign_type: str) -> None:
    tenant = live.tenant()
    build = voice_body if campaign_type == "voice" else sms_body
    with tenant.client() as api:
        api.lists.create("Calls")
        created = api.campaigns.create(build("Machine", ["Calls"]))
        steps: list[tuple[str, TriggerResult]] = []

        steps.append(("play", api.campaigns.play(created.id)))
        running = api.campaigns.get(created.id)
        steps.append(("pause", api.campaigns.pause(created.id)))
        steps.append(("resume", api.campaigns.resume(created.id)))
        with pytest.raises(InvalidStateError):
            # Active: cannot be deleted.
            api.campaigns.delete(created.id)
        steps.append(("stop", api.campaigns.stop(created.id)))
        stopped = api.campaigns.get(created.id)

        with pytest.raises(InvalidStateError) as raised:
            api.campaigns.resume(created.id)
        assert raised.value.status_code == 409
        assert api.campaigns.status(created.id).status == "Stopped"

    assert [(action, result.status, result.message) for action, result in steps] == [
        ("play", "Active", "Campaign Started"),
        ("pause", "Paused", "Campaign Paused"),
        ("resume", "Active", "Campaign Resumed"),
        ("stop", "Stopped", "Campaign Stopped"),
    ]
    assert steps[-1][1].updatedAt == stopped.updatedAt
    assert running.status == "Active"
    assert running.campaignInstanceId is not None
    assert stopped.campaignInstanceId == running.campaignInstanceId
    if campaign_type == "voice":
        assert steps[0][1].totalCallsCompleted == 0
        assert steps[0][1].campaignInstanceId == running.campaignInstanceId


def test_trigger_with_an_explicit_type_and_a_second_play(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        api.lists.create("Calls")
        created = api.campaigns.create(voice_body("Typed", ["Calls"]))
        started = api.campaigns.trigger(created.id, "play", campaign_type="voice")
        with pytest.raises(InvalidStateError):
            api.campaigns.play(created.id)
    assert started.status == "Active"


def make(api: Client, specs: list[dict[str, str]]) -> list[str]:
    api.lists.create("Calls")
    made = []
    for spec in specs:
        body = voice_body(
            spec["name"], ["Calls"], mode=spec.get("mode", "Progressive"), priority=spec["priority"]
        )
        made.append(api.campaigns.create(body).id)
        time.sleep(0.005)
    return made


def names(page: CampaignPage) -> list[str]:
    return [campaign.name for campaign in page.results]


def test_list_pages_sorts_and_filters(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api:
        made = make(
            api,
            [
                {"name": "bravo", "priority": "1", "mode": "Agentless"},
                {"name": "Alpha", "priority": "2"},
                {"name": "charlie", "priority": "2", "mode": "Preview"},
                {"name": "delta", "priority": "5"},
            ],
        )
        api.campaigns.play(made[1])
        api.campaigns.play(made[3])
        api.campaigns.pause(made[3])
        api.lists.create("Texts")
        api.campaigns.create(sms_body("Only a text", ["Texts"]))
        created = [api.campaigns.get(campaign_id).createdAt for campaign_id in made]
        by_name = {"name": "asc"}

        every = api.campaigns.list("voice")
        first = api.campaigns.list("voice", limit=3, sort_by=by_name)
        second_by_page = api.campaigns.list("voice", page=2, limit=3, sort_by=by_name)
        second_by_skip = api.campaigns.list("voice", skip=3, limit=3, sort_by=by_name)
        descending = api.campaigns.list("voice", sort_by={"name": "desc"})
        oldest_first = api.campaigns.list("voice", sort_by={"createdAt": "asc"})
        running = api.campaigns.list("voice", filters={"status": ["Active", "Paused"]})
        second_priority = api.campaigns.list("voice", filters={"priority": ["2"]}, sort_by=by_name)
        previews = api.campaigns.list("voice", filters={"dialingMode": ["Preview"]})
        window = api.campaigns.list(
            "voice", start_date=created[1], end_date=created[2], sort_by=by_name
        )
        texts = api.campaigns.list("sms")

    assert isinstance(every, CampaignPage)
    assert (every.totalResults, every.totalPages, every.hasMore) == (4, 1, False)
    assert all(isinstance(campaign, Campaign) for campaign in every.results)
    assert names(first) == ["Alpha", "bravo", "charlie"]
    assert (first.skip, first.limit, first.hasMore, first.totalPages) == (0, 3, True, 2)
    assert names(second_by_page) == names(second_by_skip) == ["delta"]
    assert second_by_page.hasMore is False
    assert names(descending) == ["delta", "charlie", "bravo", "Alpha"]
    assert names(oldest_first) == ["bravo", "Alpha", "charlie", "delta"]
    assert sorted(names(running)) == ["Alpha", "delta"]
    assert {campaign.status for campaign in running.results} == {"Active", "Paused"}
    assert names(second_priority) == ["Alpha", "charlie"]
    assert names(previews) == ["charlie"]
    assert names(window) == ["Alpha", "charlie"]
    assert names(texts) == ["Only a text"]


def test_a_bad_sort_is_a_validation_error(live: LiveService) -> None:
    tenant = live.tenant()
    with tenant.client() as api, pytest.raises(ValidationFailedError):
        api.campaigns.list("voice", sort_by={"name": "sideways"})
