"""What the daily refresh costs per engagement, in queries: a fixed number, whatever the history.

The refresh runs hourly over every active engagement (and the scenario suite runs it for each
of its 2,160 engagement-days): each query per engagement is paid everywhere. These counts pin
the cheaper paths (docs/trust.md, "Scenario suite", its time) so that they cannot silently grow.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.followup.services import commitment_create, commitment_set_status
from confiance.trust.models import TrustAlert, TrustCursor, TrustSnapshot
from confiance.trust.services import (
    _advance_cursor,
    trust_settings_for,
    trust_snapshot_and_check,
    trust_update,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _days(world: World, clock: time_machine.Coordinates, days: range) -> None:
    """Time logged each weekday, a commitment made and kept each week, updated each day."""
    engagement = world.engagement
    for day in days:
        clock.move_to(START + timedelta(days=day))
        today = timezone.localdate()
        if today.weekday() < 5:
            time_entry_log(
                membership=world.member,
                engagement=engagement,
                item=EntryInput(person=world.member.user, date=today, minutes=300),
            )
        if day % 7 == 0:
            promise = commitment_create(
                membership=world.member,
                engagement=engagement,
                side="provider",
                owner=world.member.user,
                text=f"Deliver {day}",
                due_date=today + timedelta(days=3),
            )
            commitment_set_status(membership=world.member, commitment=promise, status="kept")
        trust_update(engagement=engagement)


def _snapshot_and_check_queries(world: World) -> int:
    engagement = world.engagement
    settings = trust_settings_for(engagement.workspace_id)
    with CaptureQueriesContext(connection) as queries:
        trust_snapshot_and_check(
            engagement=engagement, settings=settings, day=timezone.localdate(), now=timezone.now()
        )
    return len(queries)


def test_the_day_snapshot_and_alert_check_read_the_opinions_once(world: World) -> None:
    with time_machine.travel(START, tick=False) as clock:
        _days(world, clock, range(10))
        early = _snapshot_and_check_queries(world)
        _days(world, clock, range(10, 40))
        late = _snapshot_and_check_queries(world)
        assert TrustSnapshot.objects.filter(engagement=world.engagement).exists()
        assert not TrustAlert.objects.filter(engagement=world.engagement).exists()
    # The states and the base rate once for both (each read them before: 17 queries), the
    # snapshot replaced, the alert causes (trend, silence, budget, commitments, payments,
    # problems) and the open alerts; two for the savepoint the test's transaction makes of the
    # atomic block. The same after 40 days as after 10.
    assert late == early <= 13, (early, late)


def test_a_refresh_with_nothing_new_asks_the_sources_in_one_query(world: World) -> None:
    engagement = world.engagement
    with time_machine.travel(START, tick=False) as clock:
        _days(world, clock, range(10))
        # Past the window the last commitment is read in (it may stand 7 days after it was kept).
        clock.move_to(START + timedelta(days=20))
        trust_update(engagement=engagement)
        with CaptureQueriesContext(connection) as queries:
            assert trust_update(engagement=engagement) == 0
    # The cursor, the ledger's size, the settings, one query with an EXISTS per source table, the
    # cursor moved (time entries are read by ledger index: nothing appended, nothing read).
    assert len(queries) <= 5, "\n".join(q["sql"][:90] for q in queries)


def test_the_cursor_never_moves_backwards(world: World) -> None:
    engagement = world.engagement
    with time_machine.travel(START, tick=False):
        trust_update(engagement=engagement)  # creates the cursor
        _advance_cursor(engagement, START + timedelta(hours=2), 7)
        _advance_cursor(engagement, START + timedelta(hours=1), 3)  # an earlier, smaller read
        cursor = TrustCursor.objects.get(engagement=engagement)
        assert (cursor.processed_until, cursor.ledger_size) == (START + timedelta(hours=2), 7)
        _advance_cursor(engagement, START + timedelta(hours=3), 9)
        cursor.refresh_from_db()
        assert (cursor.processed_until, cursor.ledger_size) == (START + timedelta(hours=3), 9)
