"""Alerts from change: an unpaid payment counts each week and alerts; budget drift from the pace."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from confiance.consumption.services import EntryInput, budget_revise, time_entry_log
from confiance.followup.services import payment_create, payment_mark_paid
from confiance.trust.models import TrustAlert, TrustFact
from confiance.trust.services import trust_check_alerts, trust_update
from tests.conftest import World

pytestmark = pytest.mark.django_db


def test_an_unpaid_payment_counts_each_week_and_alerts_until_paid(world: World) -> None:
    today = timezone.localdate()
    payment = payment_create(
        membership=world.finance,
        engagement=world.engagement,
        kind="deposit",
        label="Deposit",
        amount=Decimal("1000"),
        issue_date=today - timedelta(days=40),
        due_date=today - timedelta(days=22),
    )
    trust_update(engagement=world.engagement)
    weeks = TrustFact.objects.filter(engagement=world.engagement, indicator="payment_overdue")
    assert weeks.count() == 3 and all(f.negative == pytest.approx(0.5) for f in weeks)
    opened, _ = trust_check_alerts(engagement=world.engagement)
    assert ("payment_overdue", "p2c") in {(a.kind, a.direction) for a in opened}
    payment_mark_paid(membership=world.finance, payment=payment, paid_date=today)
    trust_check_alerts(engagement=world.engagement)
    alert = TrustAlert.objects.get(kind="payment_overdue")
    assert alert.closed_at is not None and alert.outcome == "cause_gone"
    assert "Remind the client" in alert.next_step


def test_budget_drift_alerts_before_100_percent_and_a_revision_rearms_it(world: World) -> None:
    engagement = world.engagement
    engagement.end_date = timezone.localdate() + timedelta(days=56)
    engagement.save(update_fields=["end_date"])
    budget_revise(
        membership=world.owner,
        engagement=engagement,
        days=Decimal("20"),
        amount=None,
        reason="Initial",
    )
    today = timezone.localdate()
    for back in range(20):  # a full day every day for four weeks: 20 of 20 days at this pace
        time_entry_log(
            membership=world.member,
            engagement=engagement,
            item=EntryInput(
                person=world.member.user, date=today - timedelta(days=back), minutes=240
            ),
        )
    opened, _ = trust_check_alerts(engagement=engagement)
    drift = [a for a in opened if a.kind == "budget_drift"]
    assert drift and drift[0].direction == "c2p"
    assert "At the recent pace the budget ends at" in drift[0].shown_reason
    budget_revise(
        membership=world.owner,
        engagement=engagement,
        days=Decimal("22"),
        amount=None,
        reason="More scope",
    )
    opened, _closed = trust_check_alerts(engagement=engagement)
    assert [a.kind for a in opened if a.kind == "budget_drift"] == ["budget_drift"]
    assert TrustAlert.objects.get(pk=drift[0].pk).outcome == "superseded"
