"""Trust follows the facts as they are written, not only at the periodic refresh."""

from __future__ import annotations

from datetime import timedelta

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
