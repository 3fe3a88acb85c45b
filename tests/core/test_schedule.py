"""Periodic work runs inside the worker, on its schedule, once at a time, visible to the owner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from confiance.core import schedule
from confiance.core.models import Notice, ScheduledJob
from confiance.core.schedule import JOBS, LEASE, RETRY_AFTER, schedule_claim, schedule_run_due
from confiance.followup.models import Side
from confiance.followup.services import commitment_create
from tests.conftest import PASSWORD

ALL = {job.name for job in JOBS}


def test_every_periodic_job_runs_without_a_cron(world) -> None:
    outcomes = schedule_run_due(worker_id="w1")
    assert outcomes == dict.fromkeys(ALL, "succeeded")
    for state in ScheduledJob.objects.all():
        job = schedule.JOBS_BY_NAME[state.name]
        assert state.runs == 1
        assert state.locked_by == "" and state.locked_until is None
        assert state.last_finished_at is not None
        assert state.next_run_at >= state.last_started_at + job.interval


def test_a_job_runs_again_only_when_its_interval_has_passed(world) -> None:
    now = timezone.now()
    schedule_run_due(worker_id="w1", now=now)
    assert schedule_run_due(worker_id="w1", now=now) == {}, "nothing is due twice"
    assert schedule_run_due(worker_id="w2", now=now + timedelta(minutes=11)) == {
        "check-problems": "succeeded"
    }
    later = schedule_run_due(worker_id="w2", now=now + timedelta(days=1, minutes=1))
    assert set(later) == ALL


def test_two_workers_never_hold_one_job(world) -> None:
    now = timezone.now()
    schedule._ensure_rows(now)  # the rows exist, every job due now
    assert schedule_claim(name="ledger-audit", worker_id="w1", now=now)
    assert not schedule_claim(name="ledger-audit", worker_id="w2", now=now)
    # While w1 runs it (its heartbeat renews the lease), w2 takes nothing.
    assert schedule.schedule_renew(worker_id="w1", now=now + LEASE / 2) == 1
    assert not schedule_claim(name="ledger-audit", worker_id="w2", now=now + LEASE)
    # w1 died: once its lease ran out, another worker takes the job.
    assert schedule_claim(name="ledger-audit", worker_id="w2", now=now + LEASE * 2)
    assert ScheduledJob.objects.get(name="ledger-audit").locked_by == "w2"


def test_a_failing_job_is_recorded_retried_soon_and_stops_no_other(world, monkeypatch) -> None:
    def broken() -> str:
        raise RuntimeError("disk full")

    monkeypatch.setattr(schedule, "_ledger_audit", broken)
    now = timezone.now()
    outcomes = schedule_run_due(worker_id="w1", now=now)
    assert outcomes["ledger-audit"] == "failed"
    assert outcomes["trust-refresh"] == "succeeded"
    state = ScheduledJob.objects.get(name="ledger-audit")
    assert state.last_outcome == "failed" and "disk full" in state.last_error
    assert state.next_run_at <= timezone.now() + RETRY_AFTER
    assert state.locked_by == ""


def test_reminders_from_the_schedule_are_sent_once(world) -> None:
    commitment_create(
        membership=world.owner,
        engagement=world.engagement,
        text="Send the audit report",
        side=Side.PROVIDER,
        owner=world.member.user,
        due_date=date.today() - timedelta(days=2),
    )
    now = timezone.now()
    schedule_run_due(worker_id="w1", now=now)
    schedule_run_due(worker_id="w2", now=now + timedelta(hours=2))
    assert Notice.objects.filter(kind="commitment.overdue").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_due_jobs(settings, world) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("worker", batch=True)
    assert set(
        ScheduledJob.objects.filter(last_outcome="succeeded").values_list("name", flat=True)
    ) == (ALL)
    call_command("worker", batch=True, no_schedule=True)
    assert set(ScheduledJob.objects.values_list("runs", flat=True)) == {1}


def test_the_owner_sees_the_schedule(client, world) -> None:
    schedule_run_due(worker_id="w1")
    client.login(email=world.owner.user.email, password=PASSWORD)
    page = client.get(reverse("schedule", kwargs={"ws": world.workspace.slug}))
    assert page.status_code == 200
    text = page.content.decode()
    for label in ("Trust refresh", "Commitment reminders", "Problem targets", "Ledger audit"):
        assert label in text
    assert "Succeeded" in text or "succeeded" in text
    assert "10 minutes" in text and "1 day" in text
