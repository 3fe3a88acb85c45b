"""Follow-up facts feed the trust model in the right direction: ours c2p, the client's p2c."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from confiance.followup.models import Commitment
from confiance.followup.services import (
    commitment_create,
    commitment_set_status,
    payment_create,
    payment_mark_paid,
)
from confiance.trust.facts import render_label
from confiance.trust.models import TrustAlert, TrustFact, TrustState
from confiance.trust.services import trust_check_alerts, trust_update
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_commitments_move_reliability_for_us_and_good_faith_for_the_client(world: World) -> None:
    today = timezone.localdate()
    ours = commitment_create(
        membership=world.member,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="Send the plan",
        due_date=today + timedelta(days=3),
    )
    theirs = commitment_create(
        membership=world.client_contact,
        engagement=world.engagement,
        side="client",
        owner=world.client_contact.user,
        text="Give access",
        due_date=today + timedelta(days=3),
    )
    # Made a week ago: a promise that matters (one made and kept the same day counts 5 %).
    Commitment.objects.filter(pk=ours.pk).update(created_at=timezone.now() - timedelta(days=7))
    commitment_set_status(membership=world.member, commitment=ours, status="kept")
    commitment_set_status(membership=world.client_contact, commitment=theirs, status="broken")
    trust_update(engagement=world.engagement)
    c2p = TrustState.objects.get(direction="c2p", dimension="reliability")
    p2c = TrustState.objects.get(direction="p2c", dimension="good_faith")
    # Marked kept by our side alone: half now, the other half once the client lets it stand.
    assert (c2p.positive, c2p.negative) == (pytest.approx(0.5), 0.0)
    assert (p2c.positive, p2c.negative) == (0.0, pytest.approx(2.0))
    broken = TrustFact.objects.get(indicator="client_commitment_broken")
    assert render_label(broken.label, broken.params).endswith("Give access")
    assert broken.link.endswith(f"/followup/commitments/{theirs.pk}/")


def test_payment_on_time_is_client_good_faith(world: World) -> None:
    today = timezone.localdate()
    payment = payment_create(
        membership=world.finance,
        engagement=world.engagement,
        kind="deposit",
        label="Deposit",
        amount=Decimal("1000"),
        issue_date=today - timedelta(days=10),
        due_date=today - timedelta(days=2),
    )
    payment_mark_paid(
        membership=world.finance, payment=payment, paid_date=today - timedelta(days=3)
    )
    trust_update(engagement=world.engagement)
    state = TrustState.objects.get(direction="p2c", dimension="good_faith")
    assert state.positive == pytest.approx(1.5) and state.negative == 0


def test_overdue_commitment_alert_opens_once_and_closes_when_kept(world: World) -> None:
    today = timezone.localdate()
    ours = commitment_create(
        membership=world.member,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="Send the plan",
        due_date=today + timedelta(days=1),
    )
    later = timezone.now() + timedelta(days=3)
    opened, _ = trust_check_alerts(engagement=world.engagement, now=later)
    assert ("commitment_overdue", "c2p") in {(a.kind, a.direction) for a in opened}
    opened, _ = trust_check_alerts(engagement=world.engagement, now=later)
    assert not [a for a in opened if a.kind == "commitment_overdue"]
    commitment_set_status(membership=world.member, commitment=ours, status="kept")
    trust_check_alerts(engagement=world.engagement, now=later)
    alert = TrustAlert.objects.get(kind="commitment_overdue")
    assert alert.closed_at is not None
