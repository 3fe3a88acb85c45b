"""The cheap refresh: it reads only the sources that have rows since the last run, and finds
exactly the facts a full read finds (facts that stand after 7 days and unpaid weeks included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.followup.services import commitment_create, commitment_set_status, payment_create
from confiance.trust.models import TrustFact
from confiance.trust.services import trust_rebuild, trust_update
from tests.conftest import World

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _facts(world: World) -> set[tuple[str, str, str, float, float]]:
    return {
        (f.indicator, f.source_type, f.source_id, round(f.positive, 9), round(f.negative, 9))
        for f in TrustFact.objects.filter(engagement=world.engagement)
    }


def test_the_daily_refresh_finds_what_a_full_read_finds(world: World) -> None:
    engagement = world.engagement
    with time_machine.travel(START, tick=False) as clock:
        payment_create(
            membership=world.finance,
            engagement=engagement,
            kind="invoice",
            label="Invoice 1",
            amount=Decimal("1000"),
            issue_date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=5),
        )
        for day in range(30):
            clock.move_to(START + timedelta(days=day))
            today = timezone.localdate()
            if today.weekday() < 5:
                time_entry_log(
                    membership=world.member,
                    engagement=engagement,
                    item=EntryInput(person=world.member.user, date=today, minutes=300),
                )
            if day % 9 == 0:  # kept the next day by us alone: half now, half once it stood
                promise = commitment_create(
                    membership=world.member,
                    engagement=engagement,
                    side="provider",
                    owner=world.member.user,
                    text=f"Deliver {day}",
                    due_date=today + timedelta(days=4),
                )
            if day % 9 == 1:
                commitment_set_status(membership=world.member, commitment=promise, status="kept")
            trust_update(engagement=engagement)
        daily = _facts(world)
        assert {"payment_overdue", "provider_commitment_kept"} <= {f[0] for f in daily}
        assert any(f[1].endswith(".stood") for f in daily), "a fact that stood was found"
        trust_rebuild(engagement=engagement)  # forget everything, read every source once
        assert _facts(world) == daily


def test_a_refresh_with_nothing_new_asks_each_source_once(world: World) -> None:
    engagement = world.engagement
    time_entry_log(
        membership=world.member,
        engagement=engagement,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=60),
    )
    trust_update(engagement=engagement)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        trust_update(engagement=engagement)  # re-reads the two days before the last run
        with CaptureQueriesContext(connection) as queries:
            assert trust_update(engagement=engagement) == 0
    # The cursor, the settings, the states, one probe per source table; no indicator is read
    # (without the probes, every indicator is read: several queries each).
    assert len(queries) <= 20, "\n".join(q["sql"][:90] for q in queries)


def test_the_probes_compiled_once_answer_as_the_probes_built_each_time(world: World) -> None:
    from confiance.trust import indicators
    from confiance.trust.services import _changed

    engagement = world.engagement
    with time_machine.travel(START, tick=False) as clock:
        payment_create(
            membership=world.finance,
            engagement=engagement,
            kind="invoice",
            label="Invoice 1",
            amount=Decimal("1000"),
            issue_date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=5),
        )
        promise = commitment_create(
            membership=world.member,
            engagement=engagement,
            side="provider",
            owner=world.member.user,
            text="Deliver",
            due_date=timezone.localdate() + timedelta(days=4),
        )
        clock.move_to(START + timedelta(days=1))
        commitment_set_status(membership=world.member, commitment=promise, status="kept")
        chosen = indicators.available_indicators()
        seen = set()
        for day in range(0, 30, 2):
            clock.move_to(START + timedelta(days=day))
            since = timezone.now() - timedelta(days=2)
            expected = [
                i for i in chosen if i.changed is None or i.changed(engagement, since).exists()
            ]
            found = _changed(engagement, chosen, since)
            assert found == expected, day
            seen.add(tuple(i.key for i in found))
        assert len(seen) >= 2, "the answers changed with the days"
