"""Nothing stays stuck: an import or a task whose process died is recovered, never "running" for
ever; the person sees "Interrupted — start again" and starting again writes each row once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from confiance.consumption import services as consumption_services
from confiance.consumption.imports import services
from confiance.consumption.imports.services import import_run
from confiance.consumption.models import ImportJob, TimeEntry
from confiance.core.worker import WORKER_STALE_AFTER, recover_stalled_work, worker_beat
from confiance.ledger.models import LedgerEntry
from tests.conftest import World
from tests.consumption.import_support import prepare, var_dir  # noqa: F401
from tests.consumption.test_import_services import generic_csv

pytestmark = pytest.mark.usefixtures("var_dir")


class Killed(BaseException):
    """Stands for kill -9: nothing in the process runs after it (no except, no finally write)."""


def killed_after_first_chunk(world: World, monkeypatch) -> ImportJob:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = prepare(world, generic_csv(5))
    real = consumption_services.time_entries_log
    calls = []

    def dying_at_chunk_2(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise Killed
        return real(**kwargs)

    monkeypatch.setattr(consumption_services, "time_entries_log", dying_at_chunk_2)
    with pytest.raises(Killed):
        import_run(job_id=job.pk)
    monkeypatch.setattr(consumption_services, "time_entries_log", real)
    job.refresh_from_db()
    return job


def test_a_killed_import_is_recovered_and_started_again_writes_each_row_once(
    world: World, monkeypatch, login, django_capture_on_commit_callbacks
) -> None:
    job = killed_after_first_chunk(world, monkeypatch)
    # What the dead process left: "running", its first chunk committed with the job's position.
    assert job.status == ImportJob.Status.RUNNING and job.processed_rows == 2
    assert TimeEntry.objects.count() == 2

    assert recover_stalled_work()["imports"] == 0  # its heartbeat is recent: maybe still alive
    later = timezone.now() + services.STALE_AFTER + timedelta(seconds=1)
    assert recover_stalled_work(now=later)["imports"] == 1
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INTERRUPTED

    http = login("owner")
    detail = reverse(
        "import-detail", kwargs={"ws": "provider", "pk": world.engagement.pk, "job_id": job.pk}
    )
    page = http.get(detail).content.decode()
    assert "Interrupted — start again" in page
    assert "2 of 5 rows were written before it stopped" in page
    assert 'data-testid="import-restart"' in page
    assert "hx-trigger" not in page  # nothing to poll until it is started again

    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(
            reverse(
                "import-confirm",
                kwargs={"ws": "provider", "pk": world.engagement.pk, "job_id": job.pk},
            )
        )
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.attempts == 2
    assert (job.created_count, job.skipped_count) == (5, 0)
    assert TimeEntry.objects.count() == 5
    assert LedgerEntry.objects.filter(kind="time_entry").count() == 5
    assert "5 entries created, 0 already imported and skipped." in http.get(detail).content.decode()


def test_a_stalled_import_can_be_started_again_before_the_sweep_ran(
    world: World, monkeypatch, login
) -> None:
    job = killed_after_first_chunk(world, monkeypatch)
    ImportJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - services.STALE_AFTER - timedelta(seconds=1)
    )
    http = login("owner")
    page = http.get(
        reverse(
            "import-detail", kwargs={"ws": "provider", "pk": world.engagement.pk, "job_id": job.pk}
        )
    ).content.decode()
    assert "Interrupted — start again" in page
    job.refresh_from_db()
    services.import_confirm(membership=world.owner, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED


def test_a_running_import_with_a_live_heartbeat_cannot_be_started_twice(
    world: World, monkeypatch
) -> None:
    job = killed_after_first_chunk(world, monkeypatch)
    with pytest.raises(services.ValidationError):
        services.import_confirm(membership=world.owner, job=job)


def _running_task(worker_id: str, started_minutes_ago: int) -> DBTaskResult:
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="confiance.consumption.imports.tasks.run_import",
        worker_ids=[worker_id],
        backend_name="default",
        run_after=timezone.now(),
        started_at=timezone.now() - timedelta(minutes=started_minutes_ago),
    )


def test_tasks_of_a_dead_worker_are_failed_cleanly_those_of_live_workers_kept(db) -> None:
    worker_beat("alive")
    dead = _running_task("dead", started_minutes_ago=10)
    alive = _running_task("alive", started_minutes_ago=10)
    young = _running_task("dead", started_minutes_ago=0)  # may be a worker just starting
    assert recover_stalled_work()["tasks"] == 1
    dead.refresh_from_db()
    assert dead.status == "FAILED" and dead.finished_at is not None
    assert dead.exception_class_path.endswith("WorkerDiedError")
    assert "worker dead stopped" in dead.traceback
    assert DBTaskResult.objects.get(pk=alive.pk).status == "RUNNING"
    assert DBTaskResult.objects.get(pk=young.pk).status == "RUNNING"
    assert timedelta(minutes=10) > WORKER_STALE_AFTER


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_sweeps_then_runs_what_is_pending(settings, world) -> None:
    settings.TASKS = {"default": {"BACKEND": "confiance.core.taskqueue.DatabaseBackend"}}
    dead = _running_task("dead", started_minutes_ago=10)
    call_command("worker", batch=True)
    assert DBTaskResult.objects.get(pk=dead.pk).status == "FAILED"
