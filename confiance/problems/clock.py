"""The SLA targets applied to one problem: which are due, which are missed (no writes here).

Targets (ProblemSettings, tightened by the client's priority from the moment it is set:
sla.target_over_time): acknowledge
within N minutes of the raise; name an owner within N minutes of the raise; once acknowledged,
post a progress update at least every N minutes (the clock restarts at each update). Every
clock stops while the provider waits on the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from confiance.problems import sla
from confiance.problems.models import EventKind, Problem, ProblemEvent, ProblemSettings


@dataclass(frozen=True)
class Target:
    kind: str  # "acknowledge", "owner" or "update" (ProblemBreach.Kind)
    anchor: datetime  # what the clock runs from
    target: timedelta
    done_at: datetime | None
    elapsed: timedelta
    due_at: datetime | None  # None while paused with no end in sight, or when done
    breached: bool


def pause_events(events: list[ProblemEvent]) -> list[tuple[str, datetime]]:
    """The clock's inputs: waiting-on-client and resumed events, as (kind, time)."""
    kinds = (EventKind.WAITING_ON_CLIENT, EventKind.RESUMED)
    return [(str(e.kind), e.at) for e in events if e.kind in kinds]


def priority_history(problem: Problem, events: list[ProblemEvent]) -> list[tuple[datetime, str]]:
    """The client's priority over time: the one given at the raise, then each change."""
    raised = next((e for e in events if e.kind == EventKind.RAISED), None)
    changes = [(e.at, e.value) for e in events if e.kind == EventKind.PRIORITY_SET]
    if raised is not None and raised.value:
        initial = raised.value
    else:  # raised without a priority, or before the raise kept it: the current one if unchanged
        initial = "" if changes else problem.client_priority
    return [(problem.created_at, initial), *changes]


def targets(
    problem: Problem, events: list[ProblemEvent], settings: ProblemSettings, now: datetime
) -> list[Target]:
    """The targets that apply to the problem now, with their state."""
    clock = pause_events(events)
    # Resolving stops every clock: what was not done by then is judged at the resolution.
    stop = problem.resolved_at
    result = []

    priorities = priority_history(problem, events)

    def add(kind: str, anchor: datetime, done_at: datetime | None) -> None:
        end = done_at or stop or now
        target = sla.target_over_time(clock, anchor, settings.target(kind), priorities, end)
        elapsed = sla.business_elapsed(clock, anchor, end)
        due = None if (done_at or stop) else sla.due_at(clock, anchor, target)
        result.append(
            Target(kind, anchor, target, done_at, elapsed, due, breached=elapsed > target)
        )

    add("acknowledge", problem.created_at, problem.acknowledged_at)
    add("owner", problem.created_at, problem.owner_named_at)
    if problem.is_open and problem.acknowledged_at is not None:
        anchor = max(
            t
            for t in (problem.acknowledged_at, problem.owner_named_at, problem.last_update_at)
            if t
        )
        add("update", anchor, None)
    return result


def missed_so_far(
    problem: Problem, events: list[ProblemEvent], settings: ProblemSettings, now: datetime
) -> bool:
    """Whether any target of the problem has been missed up to now."""
    return any(t.breached for t in targets(problem, events, settings, now))


def time_since_last_update(problem: Problem, now: datetime) -> timedelta | None:
    """Wall time since the last progress update (or the acknowledgement), for the page."""
    anchor = problem.last_update_at or problem.acknowledged_at
    return None if anchor is None else now - anchor
