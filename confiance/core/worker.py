"""The task worker with a heartbeat, and the sweep that clears work whose process died.

django-tasks-db marks a task RUNNING when a worker claims it and never looks at it again: a worker
killed mid-task (OOM, kill -9, a machine restart) leaves it RUNNING for ever, and an import it was
writing shows "Importing" for ever. Each worker therefore beats in the shared cache; every beat it
also sweeps: tasks RUNNING on a worker that stopped beating are failed cleanly (with the reason),
imports whose own heartbeat stopped become INTERRUPTED, which their page offers to start again.

Each worker also runs the periodic jobs (confiance/core/schedule.py) from a third thread, so that
`confiance serve` needs no cron: the jobs' rows are their lock, and the heartbeat renews the
leases of the jobs this worker is running.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

from confiance.core.schedule import SCHEDULE_TICK, schedule_renew, schedule_run_due

logger = logging.getLogger("confiance.tasks")

HEARTBEAT_SECONDS = 15
# A worker silent for this long is dead (several missed beats, not one slow one).
WORKER_STALE_AFTER = timedelta(seconds=4 * HEARTBEAT_SECONDS)


class WorkerDiedError(Exception):
    """The worker process running a task stopped before the task finished."""


def _beat_key(worker_id: str) -> str:
    return f"task-worker-alive:{worker_id}"


def worker_beat(worker_id: str) -> None:
    """Say, in the cache every process shares, that this worker is alive."""
    cache.set(_beat_key(worker_id), timezone.now().isoformat(), WORKER_STALE_AFTER.seconds)


def worker_alive(worker_id: str) -> bool:
    return cache.get(_beat_key(worker_id)) is not None


def tasks_recover_stalled(*, now: datetime | None = None) -> int:
    """Fail the RUNNING tasks whose worker stopped beating; return how many."""
    now = now or timezone.now()
    failed = 0
    running = DBTaskResult.objects.running().filter(started_at__lt=now - WORKER_STALE_AFTER)
    for result in running.only("id", "worker_ids", "status"):
        worker_id = result.worker_ids[-1] if result.worker_ids else ""
        if worker_id and worker_alive(worker_id):
            continue
        with exclusive_transaction(result._state.db):
            current = DBTaskResult.objects.select_for_update().filter(pk=result.pk).first()
            if current is None or current.status != result.status:
                continue  # finished meanwhile
            current.set_failed(WorkerDiedError(f"worker {worker_id or '?'} stopped"))
        logger.warning("Task %s failed: its worker %s stopped.", result.pk, worker_id)
        failed += 1
    return failed


def recover_stalled_work(*, now: datetime | None = None) -> dict[str, int]:
    """The sweep: tasks of dead workers failed, imports of dead workers interrupted."""
    from confiance.consumption.imports.services import imports_recover_stalled

    return {
        "tasks": tasks_recover_stalled(now=now),
        "imports": imports_recover_stalled(now=now),
    }


class HeartbeatWorker(Worker):
    """django-tasks-db's worker, beating (and sweeping) and running the periodic jobs beside it."""

    run_schedule = True

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                worker_beat(self.worker_id)
                schedule_renew(worker_id=self.worker_id)
                recovered = recover_stalled_work()
                if any(recovered.values()):
                    logger.warning("Recovered work of stopped workers: %s", recovered)
            except Exception:
                logger.exception("The worker's heartbeat or sweep failed; trying again.")
            finally:
                connection.close()
            stop.wait(HEARTBEAT_SECONDS)

    def _scheduler(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                schedule_run_due(worker_id=self.worker_id)
            except Exception:
                logger.exception("The periodic jobs could not be run; trying again.")
            finally:
                connection.close()
            stop.wait(SCHEDULE_TICK.total_seconds())

    def run(self) -> None:
        worker_beat(self.worker_id)
        if self.batch:  # one pass: sweep first, run the due periodic jobs, then what is pending
            recover_stalled_work()
            if self.run_schedule:
                schedule_run_due(worker_id=self.worker_id)
            super().run()
            return
        stop = threading.Event()
        threads = [threading.Thread(target=self._heartbeat, args=(stop,), daemon=True)]
        if self.run_schedule:
            threads.append(threading.Thread(target=self._scheduler, args=(stop,), daemon=True))
        for thread in threads:
            thread.start()
        try:
            super().run()
        finally:
            stop.set()
