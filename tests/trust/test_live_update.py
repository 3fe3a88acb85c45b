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
