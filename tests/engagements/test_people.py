"""Profiles and pickers within reach: the people of an engagement, and who may see whom."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.core.models import Role
from confiance.core.services import membership_add, user_create
from confiance.engagements.selectors import engagement_people
from confiance.followup import services as followup
from confiance.lessons import services as lessons
from tests.conftest import PASSWORD, World


def _profile(client: HttpClient, world: World, viewer: str, user_id: int) -> int:
    client.force_login(world.user(viewer))
    url = reverse("person-profile", kwargs={"ws": world.workspace.slug, "user_id": user_id})
    return client.get(url).status_code


def test_people_of_an_engagement_are_its_team_and_its_clients_contacts(world: World) -> None:
    people = set(engagement_people(engagement=world.engagement))
    assert people == {world.owner.user, world.member.user, world.client_contact.user}
    # Finance is of the provider but not on this engagement; other clients' contacts and the
    # expert never are.
    assert set(engagement_people(engagement=world.engagement, side="client")) == {
        world.client_contact.user
    }


def test_logging_time_on_an_engagement_takes_part_in_it(world: World) -> None:
    newcomer = membership_add(
        by=world.owner,
        user=user_create(email="new@provider.test", password=PASSWORD, full_name="Nina New"),
        role=Role.MEMBER,
    )
    assert newcomer.user not in engagement_people(engagement=world.engagement)
    time_entry_log(
        membership=newcomer,
        engagement=world.engagement,
        item=EntryInput(person=newcomer.user, date=timezone.localdate(), minutes=60),
    )
    assert newcomer.user in engagement_people(engagement=world.engagement)


@pytest.mark.parametrize(
    ("viewer", "subject", "status"),
    [
        ("client_contact", "member", 200),  # they share Alpha migration
        ("client_contact", "client_contact", 200),  # oneself
        ("client_contact", "other_client_contact", 404),  # another client's contact
        ("client_contact", "finance", 404),  # of the provider, on none of my engagements
        ("client_contact", "expert", 404),
        ("other_client_contact", "client_contact", 404),
        ("expert", "client_contact", 404),
        ("expert", "member", 404),
        ("expert", "expert", 200),
        ("member", "other_client_contact", 200),  # the provider's people see the workspace
        ("outsider", "member", 404),
    ],
)
def test_a_profile_is_seen_only_by_who_shares_an_engagement(
    client: HttpClient, world: World, viewer: str, subject: str, status: int
) -> None:
    assert _profile(client, world, viewer, world.user(subject).pk) == status


def test_a_profile_from_another_client_is_not_found_whatever_the_id(
    client: HttpClient, world: World
) -> None:
    assert _profile(client, world, "client_contact", 10**9) == 404


def test_kudos_picker_offers_only_the_engagements_people(client: HttpClient, world: World) -> None:
    client.force_login(world.client_contact.user)
    page = client.get(
        reverse("kudos", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    )
    choices = {u.pk for u in page.context["form"].fields["recipients"].queryset}
    assert choices == {world.owner.user.pk, world.member.user.pk}
    with pytest.raises(ValidationError):
        lessons.kudos_give(
            membership=world.client_contact,
            engagement=world.engagement,
            recipients=[world.finance.user],
            text="Thanks for the invoices",
        )


def test_meeting_and_commitment_pickers_offer_only_the_engagements_people(
    client: HttpClient, world: World
) -> None:
    client.force_login(world.member.user)
    page = client.get(
        reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    )
    expected = {world.owner.user.pk, world.member.user.pk, world.client_contact.user.pk}
    attendees = page.context["meeting_form"].fields["attendees"].queryset
    owners = page.context["commitment_form"].fields["owner"].queryset
    assert {u.pk for u in attendees} == expected
    assert {u.pk for u in owners} == expected
    start = timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError, match="does not take part"):
        followup.meeting_create(
            membership=world.member,
            engagement=world.engagement,
            title="Steering",
            channel="video",
            starts_at=start,
            duration_minutes=60,
            attendees=[world.member.user, world.finance.user],
        )
    with pytest.raises(ValidationError, match="takes part"):
        followup.commitment_create(
            membership=world.member,
            engagement=world.engagement,
            side="provider",
            text="Send the report",
            owner=world.finance.user,
            due_date=timezone.localdate() + timedelta(days=3),
        )


def test_problem_owner_picker_offers_only_the_engagements_provider_people(
    client: HttpClient, world: World
) -> None:
    from confiance.problems.selectors import problem_people

    people = set(problem_people(engagement=world.engagement))
    assert people == {world.owner.user, world.member.user}
