"""Trust cannot be padded: what one side records about itself alone, split time, bursts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.engagements.models import Engagement
from confiance.followup.services import commitment_create, commitment_set_status
from confiance.trust import indicators
from confiance.trust.models import TrustFact
from confiance.trust.selectors import engagement_trust
from confiance.trust.services import (
    base_rate_for,
    opinions_of,
    trust_settings_for,
    trust_update,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 7, 9, 0, tzinfo=UTC)  # a Monday
DAYS = 42


def _history(world: World, engagement: Engagement, *, padded: bool) -> None:
    """Six weeks of honest work: time logged every weekday, a weekly commitment kept on time.
    Padded, the same work plus each day's time split into six entries and sixty trivial
    commitments made and marked kept by the provider alone, two a day."""
    member = world.member
    with time_machine.travel(T0, tick=False) as clock:
        for day in range(DAYS):
            moment = T0 + timedelta(days=day)
            clock.move_to(moment)
            today = timezone.localdate()
            if moment.weekday() < 5:
                for _piece in range(6 if padded else 1):
                    time_entry_log(
                        membership=member,
                        engagement=engagement,
                        item=EntryInput(
                            person=member.user, date=today, minutes=420 // (6 if padded else 1)
                        ),
                    )
            if day % 7 == 0:
                weekly = commitment_create(
                    membership=member,
                    engagement=engagement,
                    side="provider",
                    owner=member.user,
                    text=f"Deliver the week {day // 7} increment",
                    due_date=today + timedelta(days=7),
                )
            if day % 7 == 6:
                commitment_set_status(membership=member, commitment=weekly, status="kept")
            if padded and day < 30:
                for n in range(2):
                    trivial = commitment_create(
                        membership=member,
                        engagement=engagement,
                        side="provider",
                        owner=member.user,
                        text=f"Answer e-mail {day}-{n}",
                        due_date=today + timedelta(days=1),
                    )
                    commitment_set_status(membership=member, commitment=trivial, status="kept")
        clock.move_to(T0 + timedelta(days=DAYS))
        trust_update(engagement=engagement)


def _c2p(engagement: Engagement) -> tuple[float, float]:
    settings = trust_settings_for(engagement.workspace_id)
    opinions = opinions_of(
        engagement.trust_states.all(),
        base_rate_for(engagement, settings),
        settings.half_life,
        T0 + timedelta(days=DAYS),
    )
    return (
        opinions[("c2p", indicators.OVERALL)].projected(),
        opinions[("c2p", indicators.RELIABILITY)].projected(),
    )


def test_padding_moves_client_to_provider_trust_by_less_than_two_points(world: World) -> None:
    honest, padded = world.engagement, world.engagement_b  # both referred by a peer
    _history(world, honest, padded=False)
    _history(world, padded, padded=True)
    (overall_honest, reliability_honest), (overall_padded, reliability_padded) = (
        _c2p(honest),
        _c2p(padded),
    )
    assert overall_padded - overall_honest < 0.02
    assert reliability_padded - reliability_honest < 0.04
    # The split time adds no fact: one per person and day logged.
    assert (
        TrustFact.objects.filter(engagement=padded, indicator="time_logged_promptly").count()
        == TrustFact.objects.filter(engagement=honest, indicator="time_logged_promptly").count()
    )


def test_a_commitment_kept_counts_half_until_the_other_side_lets_it_stand(world: World) -> None:
    member, engagement = world.member, world.engagement
    with time_machine.travel(T0, tick=False) as clock:
        commitment = commitment_create(
            membership=member,
            engagement=engagement,
            side="provider",
            owner=member.user,
            text="Send the plan",
            due_date=timezone.localdate() + timedelta(days=10),
        )
        clock.move_to(T0 + timedelta(days=8))
        commitment_set_status(membership=member, commitment=commitment, status="kept")
        trust_update(engagement=engagement)
        facts = TrustFact.objects.filter(
            engagement=engagement, indicator="provider_commitment_kept"
        )
        assert [f.positive for f in facts] == [pytest.approx(0.5)]
        clock.move_to(T0 + timedelta(days=16))
        trust_update(engagement=engagement)
        assert sorted(f.positive for f in facts.all()) == [pytest.approx(0.5)] * 2


def test_a_commitment_the_client_marks_kept_counts_fully_at_once(world: World) -> None:
    engagement = world.engagement
    with time_machine.travel(T0, tick=False) as clock:
        commitment = commitment_create(
            membership=world.member,
            engagement=engagement,
            side="provider",
            owner=world.member.user,
            text="Send the plan",
            due_date=timezone.localdate() + timedelta(days=10),
        )
        clock.move_to(T0 + timedelta(days=8))
        commitment_set_status(membership=world.client_contact, commitment=commitment, status="kept")
        trust_update(engagement=engagement)
    fact = TrustFact.objects.get(engagement=engagement, indicator="provider_commitment_kept")
    assert fact.positive == pytest.approx(1.0)


def test_withdrawing_ones_own_commitment_counts_as_broken(world: World) -> None:
    engagement = world.engagement
    commitment = commitment_create(
        membership=world.member,
        engagement=engagement,
        side="provider",
        owner=world.member.user,
        text="Send the plan",
        due_date=timezone.localdate() + timedelta(days=10),
    )
    commitment_set_status(membership=world.member, commitment=commitment, status="withdrawn")
    trust_update(engagement=engagement)
    fact = TrustFact.objects.get(engagement=engagement)
    assert (fact.indicator, fact.negative) == ("provider_commitment_broken", pytest.approx(2.0))


def test_fact_labels_are_shown_in_the_readers_language_with_its_date_format(
    world: World,
) -> None:
    from django.utils import translation

    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(
            person=world.member.user, date=timezone.localdate() - timedelta(days=9), minutes=60
        ),
    )
    trust_update(engagement=world.engagement)
    with translation.override("fr"):
        trust = engagement_trust(fetched_by=world.owner, engagement=world.engagement)
    label = trust.directions[0].explanation[0].label
    assert "saisi avec 9 jours de retard" in label or "jours de retard" in label
    assert "-" not in label.split(" ")[2]  # a French date, not an ISO one
