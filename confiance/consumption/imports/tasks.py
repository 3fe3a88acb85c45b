"""Background task of the CSV import: the worker writes a confirmed import."""

from __future__ import annotations

from django_tasks import task


@task()
def check_import(job_id: int) -> None:
    """Check a large upload row by row (writing nothing); its page polls the progress."""
    from confiance.consumption.imports.services import import_check

    import_check(job_id=job_id)


@task()
def run_import(job_id: int) -> None:
    """Write the confirmed import `job_id` (all or nothing); its page polls the progress."""
    from confiance.consumption.imports.services import import_run

    import_run(job_id=job_id)
