"""Kudos: people credited for named successes, on their profile and in the engagement log."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from confiance.core.models import Notice
from confiance.ledger.models import LedgerEntry
from confiance.lessons import selectors, services
from tests.conftest import World


def give(world: World, persona: str = "client_contact", to=None, text: str = "Great workshop"):  # type: ignore[no-untyped-def]
    return services.kudos_give(
        membership=getattr(world, persona),
        engagement=world.engagement,
        recipients=to if to is not None else [world.member.user],
        text=text,
    )


def test_client_credits_a_consultant_and_it_enters_the_engagement_log(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        kudos = give(world)
    assert list(kudos.recipients.all()) == [world.member.user]
    entry = LedgerEntry.objects.get(engagement=world.engagement, kind="kudos.given")
    assert entry.index >= 0
    assert Notice.objects.filter(user=world.member.user, kind="kudos.received").count() == 1


def test_kudos_to_several_people_of_both_sides(world: World) -> None:
    kudos = give(world, "member", to=[world.client_contact.user, world.owner.user])
    assert kudos.recipients.count() == 2


def test_kudos_only_to_people_of_the_engagement(world: World) -> None:
    with pytest.raises(ValidationError):
        give(world, "member", to=[world.other_client_contact.user])
    with pytest.raises(ValidationError):
        give(world, "member", to=[world.outsider.user])
    with pytest.raises(ValidationError):
        give(world, "member", to=[])
    with pytest.raises(ValidationError):
        give(world, "member", to=[world.member.user])
    with pytest.raises(ValidationError):
        give(world, "member", text=" ")


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "outsider"])
def test_outsiders_of_the_engagement_cannot_give_kudos(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        give(world, persona)


def test_profile_shows_kudos_received_only_on_engagements_the_viewer_sees(world: World) -> None:
    give(world, "client_contact", text="Alpha success")
    services.kudos_give(
        membership=world.other_client_contact,
        engagement=world.engagement_b,
        recipients=[world.member.user],
        text="Beta success",
    )
    as_owner = selectors.person_profile(fetched_by=world.owner, user_id=world.member.user.pk)
    assert sorted(k.text for k in as_owner.kudos) == ["Alpha success", "Beta success"]
    as_client = selectors.person_profile(
        fetched_by=world.client_contact, user_id=world.member.user.pk
    )
    assert [k.text for k in as_client.kudos] == ["Alpha success"]


def test_profile_page(world: World, login) -> None:  # type: ignore[no-untyped-def]
    give(world, text="Saved the go-live")
    url = reverse(
        "person-profile", kwargs={"ws": world.workspace.slug, "user_id": world.member.user.pk}
    )
    page = login("finance").get(url).content.decode()
    assert "Saved the go-live" in page and "Mark Member" in page
    assert "Saved the go-live" not in login("other_client_contact").get(url).content.decode()
    assert login("outsider").get(url).status_code == 404
    stranger = reverse(
        "person-profile", kwargs={"ws": world.workspace.slug, "user_id": world.outsider.user.pk}
    )
    assert login("owner").get(stranger).status_code == 404


def test_kudos_page_form_and_list(world: World, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("kudos", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    http = login("client_contact")
    page = http.get(url).content.decode()
    assert "Mark Member" in page and "Bob Bcontact" not in page
    response = http.post(url, {"recipients": [world.member.user.pk], "text": "Clear reporting"})
    assert response.status_code == 302
    assert "Clear reporting" in login("owner").get(url).content.decode()
    response = http.post(url, {"recipients": [], "text": "KEEP"})
    assert response.status_code == 400 and "KEEP" in response.content.decode()
    assert login("other_client_contact").get(url).status_code == 404
    assert login("other_client_contact").post(url, {"text": "x"}).status_code == 404
