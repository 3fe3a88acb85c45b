"""The trust model fed by real facts: indicators, incremental vs full recompute, decay, alerts."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from confiance.consumption.services import (
    EntryInput,
    budget_revise,
    remaining_estimate_set,
    time_entry_log,
)
from confiance.core.models import Notice
from confiance.trust import indicators
from confiance.trust.facts import render_label
from confiance.trust.models import TrustAlert, TrustFact, TrustSnapshot, TrustState
from confiance.trust.opinion import Evidence
from confiance.trust.services import (
    base_rate_for,
    opinions_of,
    trust_check_alerts,
    trust_recompute,
    trust_record_fact,
    trust_settings_for,
    trust_update,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db


def log(world: World, days_ago: int, minutes: int = 60) -> None:
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(
            person=world.member.user,
            date=timezone.localdate() - timedelta(days=days_ago),
            minutes=minutes,
        ),
    )


def state(world: World, direction: str, dimension: str) -> TrustState:
    return TrustState.objects.get(
        engagement=world.engagement, direction=direction, dimension=dimension
    )


def test_time_logged_promptly_raises_client_to_provider_transparency(world: World) -> None:
    log(world, days_ago=0)
    log(world, days_ago=1)
    assert trust_update(engagement=world.engagement) == 2
    s = state(world, "c2p", "transparency")
    assert s.positive == pytest.approx(0.4, rel=1e-6) and s.negative == 0
    assert not TrustState.objects.filter(engagement=world.engagement, direction="p2c").exists()


def test_time_logged_late_lowers_transparency_with_its_reason(world: World) -> None:
    log(world, days_ago=10)  # workspace threshold: 3 days
    trust_update(engagement=world.engagement)
    s = state(world, "c2p", "transparency")
    assert s.positive == 0 and s.negative == pytest.approx(0.5)
    fact = TrustFact.objects.get(engagement=world.engagement)
    assert fact.indicator == "time_logged_late"
    assert "10 days late" in render_label(fact.label, fact.params)
    assert fact.link.endswith(f"/engagements/{world.engagement.pk}/consumption/")


def test_reprocessing_is_idempotent(world: World) -> None:
    log(world, days_ago=0)
    trust_update(engagement=world.engagement)
    assert trust_update(engagement=world.engagement) == 0
    assert TrustFact.objects.filter(engagement=world.engagement).count() == 1


def test_overrun_announced_early_is_transparency_plus(world: World) -> None:
    budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("1"),
        amount=None,
        reason="Initial",
    )
    log(world, days_ago=0, minutes=60)
    remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=10 * 60
    )
    trust_update(engagement=world.engagement)
    keys = set(TrustFact.objects.values_list("indicator", flat=True))
    assert "overrun_announced_early" in keys
    assert "overrun_unannounced" not in keys
    assert not TrustState.objects.filter(dimension="reliability").exists()


def test_overrun_discovered_at_full_budget_is_reliability_minus(world: World) -> None:
    budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("1"),
        amount=None,
        reason="Initial",
    )
    log(world, days_ago=0, minutes=9 * 60)  # a day is 8 h: the whole budget, no forecast alert
    trust_update(engagement=world.engagement)
    s = state(world, "c2p", "reliability")
    assert s.negative == pytest.approx(3.0) and s.positive == 0
    assert TrustFact.objects.filter(indicator="overrun_unannounced").exists()


def test_incremental_equals_full_recompute(world: World) -> None:
    now = timezone.now()
    for i in range(40):
        fact = indicators.Fact(
            "time_logged_promptly" if i % 3 else "time_logged_late",
            now - timedelta(days=(i * 37) % 200, hours=i),  # out of order, on purpose
            1.0 if i % 3 else 0.0,
            0.0 if i % 3 else 1.0,
            f"fact {i}",
            "",
            "test",
            str(i),
        )
        assert trust_record_fact(engagement=world.engagement, fact=fact)
    assert not trust_record_fact(engagement=world.engagement, fact=fact)  # the same source twice
    incremental = state(world, "c2p", "transparency")
    half_life = timedelta(days=90)
    inc = incremental.evidence_at(now, half_life)
    trust_recompute(engagement=world.engagement)
    full = state(world, "c2p", "transparency").evidence_at(now, half_life)
    assert math.isclose(inc.positive, full.positive, abs_tol=1e-9)
    assert math.isclose(inc.negative, full.negative, abs_tol=1e-9)
    # ...and both are the closed form: sum of w * 2^(-age/h).
    expected = sum(f.positive * 2 ** (-(now - f.at) / half_life) for f in TrustFact.objects.all())
    assert math.isclose(full.positive, expected, abs_tol=1e-9)


def test_evidence_halves_after_one_half_life(world: World) -> None:
    then = timezone.now() - timedelta(days=90)
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact("provider_commitment_kept", then, 1.0, 0.0, "kept", "", "t", "1"),
    )
    s = state(world, "c2p", "reliability")
    assert s.evidence_at(then + timedelta(days=90), timedelta(days=90)).positive == pytest.approx(
        0.5
    )


def test_base_rate_follows_contact_origin(world: World) -> None:
    assert base_rate_for(world.engagement) == 0.7  # peer referral
    world.engagement.contact_origin = "cold_prospecting"
    assert base_rate_for(world.engagement) == 0.4
    settings = trust_settings_for(world.workspace)
    settings.base_rates = {"cold_prospecting": 0.3}
    assert base_rate_for(world.engagement, settings) == 0.3


def test_no_evidence_is_the_base_rate_with_full_uncertainty() -> None:
    opinions = opinions_of([], 0.7, timedelta(days=90), timezone.now())
    overall = opinions[("c2p", "overall")]
    assert overall.uncertainty == 1.0 and overall.projected() == pytest.approx(0.7)


def test_silence_opens_an_alert_once_and_a_new_fact_closes_it(
    world: World, django_capture_on_commit_callbacks
) -> None:
    world.engagement.lead = world.member.user
    world.engagement.save()
    later = timezone.now() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        opened, _closed = trust_check_alerts(engagement=world.engagement, now=later)
    kinds = {(a.kind, a.direction) for a in opened}
    assert ("uncertainty_rise", "c2p") in kinds
    assert Notice.objects.filter(user=world.member.user, kind="trust.alert").exists()
    sent = len(mail.outbox)
    assert sent >= 1 and mail.outbox[0].to == [world.member.user.email]
    # Checked again: nothing new is sent.
    with django_capture_on_commit_callbacks(execute=True):
        opened, _closed = trust_check_alerts(engagement=world.engagement, now=later)
    assert opened == [] and len(mail.outbox) == sent
    # Time logged is not talking to the client; a progress update of ours ends that silence.
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact("time_logged_promptly", later, 1.0, 0.0, "x", "", "t", "1"),
    )
    trust_check_alerts(engagement=world.engagement, now=later)
    assert TrustAlert.objects.filter(
        kind="uncertainty_rise", direction="c2p", closed_at__isnull=True
    ).exists()
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact("problem_update_given", later, 1.0, 0.0, "x", "", "t", "2"),
    )
    trust_check_alerts(engagement=world.engagement, now=later)
    alert = TrustAlert.objects.get(kind="uncertainty_rise", direction="c2p")
    assert alert.closed_at is not None and alert.outcome == "cause_gone"
    assert TrustAlert.objects.filter(
        kind="uncertainty_rise", direction="p2c", closed_at__isnull=True
    ).exists()


def test_drop_of_projected_trust_opens_an_alert(world: World) -> None:
    now = timezone.now()
    TrustSnapshot.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        day=timezone.localdate(now) - timedelta(days=20),
        direction="c2p",
        dimension="overall",
        belief=0.8,
        disbelief=0.0,
        uncertainty=0.2,
        base_rate=0.7,
        projected=0.94,
    )
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact("overrun_unannounced", now, 0.0, 1.0, "overrun", "", "t", "1"),
    )
    opened, _ = trust_check_alerts(engagement=world.engagement, now=now)
    assert ("drop", "c2p") in {(a.kind, a.direction) for a in opened}


def test_evidence_add_matches_core_module() -> None:
    # The state is exactly opinion.Evidence: the public API is used, not re-implemented.
    now = timezone.now()
    e = Evidence.empty(now).add(1.0, 0.0, now, timedelta(days=90))
    assert e.opinion(0.5).belief == pytest.approx(1 / 3)


def test_ledger_checkpoints_that_extend_each_other_are_transparency(world: World) -> None:
    from confiance.ledger.services import checkpoint_sign

    log(world, days_ago=0)
    checkpoint_sign(engagement=world.engagement)  # what the worker does after the commit
    log(world, days_ago=0)
    checkpoint_sign(engagement=world.engagement)
    trust_update(engagement=world.engagement)
    fact = TrustFact.objects.get(indicator="checkpoint_consistent")
    assert fact.positive == pytest.approx(0.5) and fact.negative == 0
    assert "extends the previous one" in fact.label


def test_a_refresh_proves_only_the_checkpoints_it_has_not_recorded(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The refresh reads its sources again over an overlap: the checkpoints already proved there
    # are not proved again, and the facts are those a rebuild from the whole log gives.
    from confiance.ledger import selectors
    from confiance.ledger.services import checkpoint_sign
    from confiance.trust.services import trust_rebuild

    proved: list[tuple[int, int]] = []
    consistency = selectors.consistency

    def counted(*, engagement, old, new):  # type: ignore[no-untyped-def]
        proved.append((old, new))
        return consistency(engagement=engagement, old=old, new=new)

    monkeypatch.setattr(selectors, "consistency", counted)
    for _ in range(3):
        log(world, days_ago=0)
        checkpoint_sign(engagement=world.engagement)
    trust_update(engagement=world.engagement)
    assert len(proved) == 2
    log(world, days_ago=0)
    checkpoint_sign(engagement=world.engagement)
    proved.clear()
    trust_update(engagement=world.engagement)
    assert len(proved) == 1, "only the new checkpoint is proved, against the one before it"
    facts = sorted(
        TrustFact.objects.filter(indicator="checkpoint_consistent").values_list(
            "source_id", "positive", "negative", "label"
        )
    )
    assert len(facts) == 3
    trust_rebuild(engagement=world.engagement)
    assert facts == sorted(
        TrustFact.objects.filter(indicator="checkpoint_consistent").values_list(
            "source_id", "positive", "negative", "label"
        )
    )
