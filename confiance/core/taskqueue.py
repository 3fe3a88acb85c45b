"""Queuing side effects so that a write which committed is never reported as failed.

A service enqueues its side effects (e-mails, trust updates, imports) once its transaction has
committed. On SQLite, queuing is itself a write: under load it can meet "database is locked". Two
guards, so that error never reaches the person whose write succeeded:

- `DatabaseBackend` (the default task backend) retries a locked enqueue a few times, briefly;
- `enqueue_on_commit` never raises: what still fails is logged, with the task and its arguments,
  for an operator to run again (the periodic refreshes also catch up on derived work).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import OperationalError, transaction
from django_tasks_db.backend import DatabaseBackend as _DatabaseBackend
from django_tasks_db.utils import is_locked_database_exception

logger = logging.getLogger("confiance.tasks")

# Pauses between attempts when the database is locked (on top of SQLite's busy timeout).
LOCKED_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)


def _locked(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and is_locked_database_exception(error)


class DatabaseBackend(_DatabaseBackend):
    """django-tasks-db's backend, retrying an enqueue that met a locked database."""

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        for delay in (*LOCKED_RETRY_DELAYS, None):
            try:
                return super().enqueue(task, args, kwargs)
            except OperationalError as error:
                if delay is None or not _locked(error):
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def enqueue_now(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Enqueue `task(*args, **kwargs)`; log instead of raising. True when it was queued."""
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        logger.exception(
            "Could not queue %s%r %r after its write committed: run it again.",
            getattr(task, "name", task),
            args,
            kwargs,
        )
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue `task(*args, **kwargs)` once the current transaction commits, never failing it."""

    def callback() -> None:
        enqueue_now(task, *args, **kwargs)

    # Named after its task, so a test (or a debugger) can tell the callbacks of one commit apart.
    callback.__qualname__ = f"enqueue_on_commit[{getattr(task, 'name', task)}]"
    transaction.on_commit(callback)
