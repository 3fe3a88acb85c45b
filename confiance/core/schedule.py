"""Periodic work, run by the task worker itself: no cron to set up.

Every job is declared once below (name, label, interval, the function it runs). Each worker
(`confiance worker`, started by `confiance serve`) looks every SCHEDULE_TICK for jobs whose next
run is due and runs them one after the other, in a thread beside its task loop.

The lock is the job's own row: a worker takes a job with one conditional UPDATE ("next run is
due and nobody holds it, or the holder's lease ran out"). The database applies it to the row
atomically (SQLite serialises writers; PostgreSQL locks the row and re-checks the condition
after a concurrent writer commits), so exactly one worker sees "1 row updated" and runs the job;
the others see 0 and skip it. The holder's heartbeat extends its lease while it runs; when a
worker dies mid-job, its lease runs out and another worker takes the job at its next look.

Each job is idempotent on its own (a reminder once per due date, a breach notified once, a pulse
round opened only when due, the trust refresh folding only new facts), so a job run again after
a crash repeats nothing that was done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from confiance.core.models import ScheduledJob

logger = logging.getLogger("confiance.schedule")

# How often a worker looks for due jobs.
SCHEDULE_TICK = timedelta(seconds=30)
# A job's holder must renew its hold within this time (the heartbeat does, every 15 s).
LEASE = timedelta(minutes=5)
# A failed job is tried again after at most this long, not a whole interval later.
RETRY_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Job:
    name: str
    label: str | Promise
    description: str | Promise
    interval: timedelta
    # "module:function"; the function takes no argument and returns a short summary.
    target: str

    def interval_text(self) -> str:
        """The interval in words ("10 minutes", "1 day"), in the active language."""
        minutes = int(self.interval.total_seconds() // 60)
        if minutes % (24 * 60) == 0:
            days = minutes // (24 * 60)
            return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
        if minutes % 60 == 0:
            hours = minutes // 60
            return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}

    def function(self) -> Callable[[], object]:
        module, _sep, attribute = self.target.partition(":")
        function: Callable[[], object] = getattr(import_module(module), attribute)
        return function


def _ledger_audit() -> str:
    from confiance.consumption.audit import ledger_audit

    reports = ledger_audit()
    failed = sum(1 for report in reports if not report.ok)
    return f"{len(reports)} engagement(s) reconciled, {failed} with differences."


def _ledger_checkpoint_mail() -> str:
    from confiance.ledger.services import checkpoint_mail_send

    return f"{checkpoint_mail_send()} ledger(s) mailed."


def _task(module: str, name: str) -> Callable[[], object]:
    """A task of the tasks framework, run in this process (the schedule already holds the lock)."""
    task = getattr(import_module(module), name)
    return task.call  # type: ignore[no-any-return]


def _run_trust_refresh() -> str:
    return f"{_task('confiance.trust.tasks', 'trust_refresh_all')()} new fact(s) recorded."


def _run_reminders() -> str:
    commitments = _task("confiance.followup.tasks", "remind_overdue_commitments")()
    payments = _task("confiance.followup.tasks", "remind_overdue_payments")()
    return f"{commitments} commitment and {payments} payment reminder(s) sent."


def _run_problem_checks() -> str:
    return f"{_task('confiance.problems.tasks', 'check_problems')()} new breach(es) notified."


def _run_pulses() -> str:
    return f"{_task('confiance.pulse.tasks', 'open_due_pulses')()} pulse round(s) opened."


def _run_notice_digests() -> str:
    return f"{_task('confiance.core.tasks', 'send_daily_digests')()} digest(s) sent."


def _run_emergence_daily() -> str:
    return str(_task("confiance.emergence.tasks", "emergence_daily")())


def _run_backups() -> str:
    from pathlib import Path

    from django.conf import settings

    from confiance.core.archive import backups_run

    if not settings.BACKUP_DIR:
        return "Off (BACKUP_DIR is not set)."
    written = backups_run(directory=Path(settings.BACKUP_DIR), keep=settings.BACKUP_KEEP)
    return f"{len(written)} workspace archive(s) written."


JOBS: tuple[Job, ...] = (
    Job(
        "check-problems",
        _("Problem targets"),
        _("Notifies the owners and escalation levels of problems whose targets were missed."),
        timedelta(minutes=10),
        "confiance.core.schedule:_run_problem_checks",
    ),
    Job(
        "trust-refresh",
        _("Trust refresh"),
        _("Folds new facts into trust, records the day's trend, opens and closes alerts."),
        timedelta(hours=1),
        "confiance.core.schedule:_run_trust_refresh",
    ),
    Job(
        "remind-commitments",
        _("Commitment reminders"),
        _(
            "Reminds the owners of overdue commitments, once per due date, and both sides of "
            "overdue payments, once each."
        ),
        timedelta(hours=1),
        "confiance.core.schedule:_run_reminders",
    ),
    Job(
        "open-pulses",
        _("Pulse rounds"),
        _("Opens a pulse round on each engagement whose last round is older than its cadence."),
        timedelta(hours=6),
        "confiance.core.schedule:_run_pulses",
    ),
    Job(
        "emergence-daily",
        _("Emergence nominations"),
        _("Accepts the nominations whose quiet period passed."),
        timedelta(days=1),
        "confiance.core.schedule:_run_emergence_daily",
    ),
    Job(
        "notice-digests",
        _("Notice digests"),
        _("Sends each person who chose it the daily digest of their notices."),
        timedelta(days=1),
        "confiance.core.schedule:_run_notice_digests",
    ),
    Job(
        "ledger-audit",
        _("Ledger audit"),
        _("Reconciles each engagement's tables and totals with its ledger."),
        timedelta(days=1),
        "confiance.core.schedule:_ledger_audit",
    ),
    Job(
        "ledger-checkpoint-mail",
        _("Ledger checkpoints by e-mail"),
        _(
            "E-mails each client contact the latest signed checkpoint of its ledgers, at most "
            "weekly per engagement."
        ),
        timedelta(days=1),
        "confiance.core.schedule:_ledger_checkpoint_mail",
    ),
)
JOBS = (
    *JOBS,
    Job(
        "backups",
        _("Backups"),
        _("Archives every workspace into BACKUP_DIR, keeping the newest BACKUP_KEEP of each."),
        timedelta(days=1),
        "confiance.core.schedule:_run_backups",
    ),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}


def _ensure_rows(now: datetime) -> None:
    """One row per declared job; a new job is due at once. Safe when two workers race."""
    known = set(ScheduledJob.objects.values_list("name", flat=True))
    missing = [ScheduledJob(name=j.name, next_run_at=now) for j in JOBS if j.name not in known]
    if missing:
        ScheduledJob.objects.bulk_create(missing, ignore_conflicts=True)


def schedule_claim(*, name: str, worker_id: str, now: datetime) -> bool:
    """Take the job if it is due and nobody holds it; True when this worker got it."""
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    taken = (
        ScheduledJob.objects.filter(free, name=name, next_run_at__lte=now)
        # The lease starts with the claim; the holder's heartbeat renews it while the job runs.
        .update(
            locked_by=worker_id,
            locked_until=now + LEASE,
            last_started_at=now,
            last_outcome=ScheduledJob.Outcome.RUNNING,
        )
    )
    return taken == 1


def schedule_renew(*, worker_id: str, now: datetime | None = None) -> int:
    """Extend the leases this worker holds (called by its heartbeat); how many."""
    now = now or timezone.now()
    return ScheduledJob.objects.filter(locked_by=worker_id, locked_until__isnull=False).update(
        locked_until=now + LEASE
    )


def _finish(job: Job, *, worker_id: str, started: datetime, error: str, summary: str) -> None:
    # (`started` may be a clock given by a test or a catch-up run: never finish before it.)
    finished = max(timezone.now(), started)
    if error:
        next_run = finished + min(job.interval, RETRY_AFTER)
    else:
        # Keep the rhythm of the job (not drifting by its duration), but never run twice at once.
        next_run = max(started + job.interval, finished + min(job.interval, SCHEDULE_TICK))
    ScheduledJob.objects.filter(name=job.name, locked_by=worker_id).update(
        locked_by="",
        locked_until=None,
        last_finished_at=finished,
        next_run_at=next_run,
        last_outcome=ScheduledJob.Outcome.FAILED if error else ScheduledJob.Outcome.SUCCEEDED,
        last_summary=summary[:300],
        last_error=error[:2000],
        runs=F("runs") + 1,
    )


def schedule_run_due(*, worker_id: str, now: datetime | None = None) -> dict[str, str]:
    """Run every job that is due and not held by another worker; their outcomes by name."""
    now = now or timezone.now()
    _ensure_rows(now)
    outcomes: dict[str, str] = {}
    for job in JOBS:
        if not schedule_claim(name=job.name, worker_id=worker_id, now=now):
            continue
        error = summary = ""
        try:
            summary = str(job.function()())
        except Exception as exc:  # a failing job must not stop the others, nor the worker
            logger.exception("Scheduled job %s failed.", job.name)
            error = f"{type(exc).__name__}: {exc}"
        _finish(job, worker_id=worker_id, started=now, error=error, summary=summary)
        outcomes[job.name] = "failed" if error else "succeeded"
        logger.info("Scheduled job %s %s: %s", job.name, outcomes[job.name], summary or error)
    return outcomes


@dataclass(frozen=True)
class JobRow:
    job: Job
    state: ScheduledJob | None


def schedule_rows() -> list[JobRow]:
    """Every declared job with its stored state (None until a worker first looked), in order."""
    states = {s.name: s for s in ScheduledJob.objects.all()}
    return [JobRow(job=job, state=states.get(job.name)) for job in JOBS]
