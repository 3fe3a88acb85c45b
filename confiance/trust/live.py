"""Live trust updates, coalesced: at most one pending update per engagement.

Each ledgered write asks for its engagement's trust to be updated once it commits. A burst of
writes (an import, a day of entries) must not queue one task per write, or the queue outgrows
the worker (DESIGN.md, "Where the time goes"): a marker in the shared cache says an update is
already waiting, and the update clears it when it starts, so a fact committed after that start
queues the next one. Nothing is lost when the marker outlives a task that never ran: it expires,
and the periodic refresh reads every fact since the last run anyway.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction

from confiance.core.taskqueue import enqueue_now

PENDING_SECONDS = 300


def _key(engagement_id: int) -> str:
    return f"trust-update-pending:{engagement_id}"


def trust_update_soon(engagement_id: int) -> None:
    """Once the current write commits, queue the engagement's update unless one is waiting."""
    from confiance.trust.tasks import trust_update_task

    def callback() -> None:
        if not cache.add(_key(engagement_id), 1, PENDING_SECONDS):
            return  # an update is queued and has not started: it will read this fact too
        # enqueue_now never fails the write that committed (a locked SQLite is retried, logged).
        if not enqueue_now(trust_update_task, engagement_id):
            cache.delete(_key(engagement_id))

    callback.__qualname__ = "enqueue_on_commit[trust_update_task]"
    transaction.on_commit(callback)


def trust_update_started(engagement_id: int) -> None:
    """The update starts reading: a fact committed from now on needs the next one."""
    cache.delete(_key(engagement_id))
