"""A person's data: their own download of everything the workspace holds about them, and the
owner removing a member (access ends at once, history stays attributed)."""

from __future__ import annotations

import json
from datetime import date

from django.test import Client as HttpClient

from confiance.consumption.models import TimeEntry
from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.models import ApiToken, Membership
from confiance.core.services import api_token_create
from confiance.problems.services import problem_raise
from tests.conftest import World


def test_my_data_holds_what_i_did_and_nobody_elses(login, world: World) -> None:
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=date(2026, 10, 1), minutes=90),
    )
    time_entry_log(
        membership=world.owner,
        engagement=world.engagement,
        item=EntryInput(person=world.owner.user, date=date(2026, 10, 1), minutes=30),
    )
    problem_raise(
        membership=world.member, engagement=world.engagement, title="Late data", severity="low"
    )
    api_token_create(membership=world.member, name="mine")
    response = login("member").get(f"/w/{world.workspace.slug}/my-data/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["person"]["email"] == "member@provider.test"
    entries = data["records"]["consumption.TimeEntry"]
    assert [e["minutes"] for e in entries] == [90]
    assert [p["title"] for p in data["records"]["problems.Problem"]] == ["Late data"]
    assert "token_hash" not in data["records"]["core.ApiToken"][0]
    assert "owner@provider.test" not in response.content.decode()


def test_the_api_gives_the_same_data(world: World) -> None:
    _, token = api_token_create(membership=world.client_contact, name="t")
    data = HttpClient().get("/api/v1/me/data", headers={"Authorization": f"Bearer {token}"})
    assert data.json()["membership"]["client"] == "Client A"


def test_a_removed_member_loses_access_at_once_and_keeps_their_history(login, world: World) -> None:
    entry = time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=date(2026, 10, 1), minutes=90),
    )
    _, token = api_token_create(membership=world.member, name="t", scope="write")
    member_pages = HttpClient()
    member_pages.force_login(world.member.user)
    assert member_pages.get(f"/w/{world.workspace.slug}/engagements/").status_code == 200

    response = login("owner").post(f"/w/{world.workspace.slug}/members/{world.member.pk}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=world.member.pk).exists()
    assert member_pages.get(f"/w/{world.workspace.slug}/engagements/").status_code == 404
    headers = {"Authorization": f"Bearer {token}"}
    assert HttpClient().get("/api/v1/me", headers=headers).status_code == 401
    assert not ApiToken.objects.filter(membership_id=world.member.pk).exists()
    # History stays attributed: the entry is still theirs, as the client sees it.
    assert TimeEntry.objects.get(pk=entry.pk).person == world.member.user
    client = login("client_contact")
    page = client.get(f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/")
    assert b"Mark Member" in page.content


def test_the_last_owner_cannot_be_removed(login, world: World) -> None:
    login("owner").post(f"/w/{world.workspace.slug}/members/{world.owner.pk}/remove/")
    assert Membership.objects.filter(pk=world.owner.pk).exists()
