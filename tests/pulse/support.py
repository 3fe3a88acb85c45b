"""Helpers for pulse tests: people on both sides, rounds opened in the past or now."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from confiance.consumption.services import team_member_set
from confiance.core.models import Membership, Role
from confiance.core.services import membership_add, user_create
from confiance.engagements.services import engagement_update
from confiance.pulse import services
from confiance.pulse.models import PulseSurvey
from tests.conftest import PASSWORD, World


def staff_engagement(world: World) -> None:
    """Provider side of world.engagement: the owner leads, the member is on the team."""
    engagement_update(membership=world.owner, engagement=world.engagement, lead=world.owner.user)
    team_member_set(membership=world.owner, engagement=world.engagement, user=world.member.user)


def add_client_contacts(world: World, n: int) -> list[Membership]:
    """More contacts of client A (world.client_contact is the first)."""
    return [
        membership_add(
            by=world.owner,
            user=user_create(email=f"c{i}@client-a.test", password=PASSWORD, full_name=f"C {i}"),
            role=Role.CLIENT,
            client=world.client_a,
        )
        for i in range(n)
    ]


def open_round(world: World, at: datetime | None = None) -> PulseSurvey:
    survey = services.pulse_round_open(engagement=world.engagement, now=at or timezone.now())
    assert survey is not None
    return survey


def past_round(world: World, days_ago: int = 10) -> PulseSurvey:
    """A round opened days_ago (closed by now when days_ago > 7)."""
    return open_round(world, timezone.now() - timedelta(days=days_ago))


def scores(value: int = 4, **overrides: object) -> services.AnswerInput:
    base: dict[str, object] = {
        "common_language": value,
        "common_vision": value,
        "discretion": value,
        "receptivity": value,
        "proximity": value,
    }
    base.update(overrides)
    return services.AnswerInput(**base)  # type: ignore[arg-type]


def answer(membership: Membership, survey: PulseSurvey, value: int = 4, **kw: object):  # type: ignore[no-untyped-def]
    """Answer within the round's opening hours, whenever it was opened."""
    return services.pulse_answer_submit(
        membership=membership,
        survey=survey,
        answer=scores(value, **kw),
        now=survey.opened_at + timedelta(hours=1),
    )


def round_id(world: World) -> int:
    """An open round on world.engagement (for the URL access test)."""
    return open_round(world).pk


def eng_with_open_round(world: World) -> dict[str, object]:
    """URL kwargs of world.engagement's pulse, with a round open (so the form shows)."""
    if not PulseSurvey.objects.filter(engagement=world.engagement).exists():
        staff_engagement(world)
        open_round(world)
    return {"ws": world.workspace.slug, "pk": world.engagement.pk}
