"""Trust follows the facts as they are written, not only at the periodic refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from confiance.consumption.services import EntryInput, time_entry_log
from confiance.trust.models import TrustFact
from tests.conftest import World


def test_a_committed_time_entry_moves_trust(world: World, django_capture_on_commit_callbacks):
    assert not TrustFact.objects.filter(engagement=world.engagement).exists()
    with django_capture_on_commit_callbacks(execute=True):
        time_entry_log(
            membership=world.member,
            engagement=world.engagement,
            item=EntryInput(
                person=world.member.user,
                date=timezone.localdate() - timedelta(days=20),
                minutes=120,
            ),
        )
    facts = TrustFact.objects.filter(engagement=world.engagement)
    assert facts.exists(), "the entry logged 20 days late is evidence at once"
    assert facts.filter(indicator="time_logged_late", negative__gt=0).exists()


def test_nothing_moves_when_the_write_is_rolled_back(world: World) -> None:
    # Without a commit (the test transaction is never committed), no update is enqueued.
    time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=60),
    )
    assert not TrustFact.objects.filter(engagement=world.engagement).exists()


def test_a_burst_of_writes_queues_one_update_per_engagement(
    world: World, settings, django_capture_on_commit_callbacks
) -> None:
    from django_tasks import default_task_backend

    from confiance.trust.live import trust_update_started

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    def log(engagement) -> None:  # type: ignore[no-untyped-def]
        with django_capture_on_commit_callbacks(execute=True):
            time_entry_log(
                membership=world.owner,
                engagement=engagement,
                item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=30),
            )

    def queued() -> list[int]:
        return [
            r.args[0] for r in default_task_backend.results if r.task.name == "trust_update_task"
        ]

    for _ in range(3):
        log(world.engagement)
    log(world.engagement_b)
    assert sorted(queued()) == sorted([world.engagement.pk, world.engagement_b.pk])
    trust_update_started(world.engagement.pk)  # the worker took it: the next write queues again
    log(world.engagement)
    assert queued().count(world.engagement.pk) == 2


def _log_entries(world: World, count: int, settings) -> None:  # type: ignore[no-untyped-def]
    # Queued, not run: the update under test is the first to read these entries.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    for n in range(count):
        time_entry_log(
            membership=world.owner,
            engagement=world.engagement,
            item=EntryInput(
                person=world.member.user, date=timezone.localdate() - timedelta(days=n), minutes=30
            ),
        )


@pytest.mark.django_db(transaction=True)
def test_trust_update_reads_its_sources_outside_any_transaction(
    world: World, monkeypatch, settings
) -> None:
    # On SQLite a transaction holds the one write lock: reading thousands of facts inside one
    # made every write of the installation wait (issue 14). The reading holds none.
    from django.db import transaction

    from confiance.trust import services

    _log_entries(world, 3, settings)
    in_transaction: list[bool] = []
    collect = services._collect

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        for fact in collect(*args, **kwargs):
            in_transaction.append(transaction.get_connection().in_atomic_block)
            yield fact

    monkeypatch.setattr(services, "_collect", watched)
    recorded = services.trust_update(engagement=world.engagement)
    assert recorded >= 3 and len(in_transaction) >= 3
    assert not any(in_transaction)


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_reads_its_sources_outside_any_transaction_and_records_the_same_facts(
    world: World, monkeypatch, settings
) -> None:
    # A rebuild runs on each contest of a fact and after a weight change: its reading, like an
    # update's, must not hold SQLite's write lock.
    from django.db import transaction

    from confiance.trust import services
    from confiance.trust.models import TrustFact, TrustState

    _log_entries(world, 3, settings)
    services.trust_update(engagement=world.engagement)
    before = sorted(TrustFact.objects.values_list("indicator", "source_id", "positive"))
    states = sorted(TrustState.objects.values_list("dimension", "facts"))
    in_transaction: list[bool] = []
    collect = services._collect

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        for fact in collect(*args, **kwargs):
            in_transaction.append(transaction.get_connection().in_atomic_block)
            yield fact

    monkeypatch.setattr(services, "_collect", watched)
    recorded = services.trust_rebuild(engagement=world.engagement)
    assert recorded == len(before) >= 3 and not any(in_transaction)
    assert sorted(TrustFact.objects.values_list("indicator", "source_id", "positive")) == before
    assert sorted(TrustState.objects.values_list("dimension", "facts")) == states


@pytest.mark.django_db(transaction=True)
def test_two_updates_at_once_count_each_fact_once(world: World, monkeypatch, settings) -> None:
    # Another update records the same facts between this one's reading and its writing.
    from confiance.trust import services
    from confiance.trust.models import TrustState

    _log_entries(world, 3, settings)
    not_recorded = services._not_recorded
    raced: list[int] = []
    racing_now: list[bool] = []

    def racing(engagement, facts):  # type: ignore[no-untyped-def]
        new = not_recorded(engagement, facts)
        if not racing_now:
            racing_now.append(True)  # the other update reads and writes without racing
            raced.append(services.trust_update(engagement=engagement))
        return new

    monkeypatch.setattr(services, "_not_recorded", racing)
    assert services.trust_update(engagement=world.engagement) == 0
    assert raced[0] >= 3
    facts = TrustFact.objects.filter(engagement=world.engagement)
    states = TrustState.objects.filter(engagement=world.engagement)
    assert sum(state.facts for state in states) == facts.count() == raced[0]
