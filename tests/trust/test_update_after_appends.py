"""Trust catches up with appended time entries by reading only what was appended since its last
update: after an import the update costs the last chunk, not the engagement's size, and the
states it leaves are those a full rebuild finds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from confiance.consumption.imports.services import import_run
from confiance.consumption.services import EntryInput, time_entries_log
from confiance.ledger.models import LedgerHead
from confiance.trust import services as trust_services
from confiance.trust.models import TrustCursor, TrustFact, TrustState
from confiance.trust.services import trust_rebuild, trust_update
from tests.conftest import World
from tests.consumption.import_support import prepare, var_dir  # noqa: F401
from tests.consumption.test_import_services import generic_csv

TIME_INDICATORS = {"time_logged_promptly", "time_logged_late"}


def _log(world: World, days: list[date]) -> None:
    time_entries_log(
        membership=world.owner,
        engagement=world.engagement,
        items=[EntryInput(person=world.member.user, date=day, minutes=60) for day in days],
    )


def _time_facts_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The time facts each later update reads from its sources (one per entry row)."""
    read: list[str] = []
    real = trust_services._collect

    def counting(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for fact in real(*args, **kwargs):
            if fact.indicator in TIME_INDICATORS:
                read.append(fact.source_id)
            yield fact

    monkeypatch.setattr(trust_services, "_collect", counting)
    return read


def test_an_update_reads_only_the_entries_appended_since_the_last_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = timezone.localdate()
    _log(world, [today - timedelta(days=n) for n in range(1, 41)])
    trust_update(engagement=world.engagement)
    cursor = TrustCursor.objects.get(engagement=world.engagement)
    assert cursor.ledger_size == LedgerHead.objects.get(engagement=world.engagement).size

    # All 40 entries were written within the update's two-day overlap: read again by moment,
    # each update re-read them all (after an import, 100,000 rows at every update).
    read = _time_facts_read(monkeypatch)
    _log(world, [today - timedelta(days=50), today - timedelta(days=51)])
    trust_update(engagement=world.engagement)
    assert sorted(read) == sorted(
        [(today - timedelta(days=50)).isoformat(), (today - timedelta(days=51)).isoformat()]
    )
    read.clear()
    trust_update(engagement=world.engagement)
    assert read == [], "nothing appended, nothing read"
    assert (
        TrustFact.objects.filter(engagement=world.engagement, indicator__in=TIME_INDICATORS).count()
        == 42
    )


def _trust(world: World) -> tuple[dict[Any, tuple[float, float, int]], set[Any]]:
    states = {
        (s.direction, s.dimension): (s.positive, s.negative, s.facts)
        for s in TrustState.objects.filter(engagement=world.engagement)
    }
    facts = set(
        TrustFact.objects.filter(engagement=world.engagement).values_list(
            "indicator", "source_type", "source_id", "positive", "negative"
        )
    )
    return states, facts


@pytest.mark.usefixtures("var_dir")
def test_trust_updated_along_an_import_equals_a_full_rebuild(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confiance.consumption.imports import services as import_services

    monkeypatch.setattr(import_services, "CHUNK_SIZE", 20)
    monkeypatch.setattr(import_services, "SQLITE_CHUNK_SIZE", 20)
    _log(world, [timezone.localdate() - timedelta(days=2)])  # a day the file has too
    trust_update(engagement=world.engagement)
    job = prepare(world, generic_csv(70))
    updates = []

    def after_each_chunk(done: int, total: int) -> None:
        updates.append(done)
        trust_update(engagement=world.engagement)  # as the worker does once a chunk committed

    job = import_run(job_id=job.pk, progress=after_each_chunk)
    assert job.created_count == 70 and len(updates) >= 4
    updated = _trust(world)
    trust_rebuild(engagement=world.engagement)
    rebuilt = _trust(world)
    assert updated[1] == rebuilt[1]
    assert updated[0].keys() == rebuilt[0].keys()
    for key, (positive, negative, count) in rebuilt[0].items():
        assert updated[0][key] == (pytest.approx(positive), pytest.approx(negative), count)
