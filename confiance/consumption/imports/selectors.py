"""Reads of the CSV import: an engagement's import jobs, their progress and their reasons."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from confiance import access
from confiance.consumption.imports.services import import_is_stalled, problem_message, progress_key
from confiance.consumption.models import ImportJob
from confiance.core.models import Membership
from confiance.engagements.models import Engagement

ACTIVE = (ImportJob.Status.CHECKING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)


def import_job_list(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[ImportJob]:
    """The engagement's imports, newest first, for those who may import on it."""
    if not access.can_log_time_for_others(fetched_by, engagement):
        return ImportJob.objects.none()
    return ImportJob.objects.filter(
        workspace_id=fetched_by.workspace_id, engagement=engagement
    ).select_related("created_by")


def import_job_get(*, fetched_by: Membership, engagement: Engagement, job_id: int) -> ImportJob:
    """One import of the engagement, or 404."""
    job = import_job_list(fetched_by=fetched_by, engagement=engagement).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


@dataclass(frozen=True)
class ImportProgress:
    processed: int
    total: int
    active: bool

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, int(100 * self.processed / self.total))


def import_interrupted(job: ImportJob) -> bool:
    """Interrupted, or running with a worker that stopped beating: the person may start again."""
    return job.status == ImportJob.Status.INTERRUPTED or import_is_stalled(job)


def import_progress(job: ImportJob) -> ImportProgress:
    """Where the import stands: the cache while it runs (updated between its chunks)."""
    if job.status in ACTIVE and not import_is_stalled(job):
        state = cache.get(progress_key(job.pk)) or {}
        return ImportProgress(
            processed=int(state.get("processed", 0)),
            total=int(state.get("total", job.total_rows)),
            active=True,
        )
    return ImportProgress(processed=job.processed_rows, total=job.total_rows, active=False)


def import_problems(job: ImportJob) -> list[tuple[int | None, str]]:
    """The stored problems as (line, reason in the active language)."""
    return [(problem.get("line"), problem_message(problem)) for problem in job.errors]
