"""The SLA clock of a problem, in pure Python (no Django import).

The clock runs from a start moment and stops while the provider waits on the client: a
"waiting on client" event pauses it, a "resumed" event restarts it. Elapsed time is counted in
calendar minutes (problems do not wait for office hours), minus every paused stretch. This is
what "business elapsed time" means here: time the provider could act.

Rules for untidy event lists: events are sorted by time; a second pause while paused and a
resume while running are ignored; a pause lasts at most MAX_PAUSE, resumed or not;
events outside [start, end] only matter for the state they leave the clock in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

PAUSE = "waiting_on_client"
RESUME = "resumed"
MAX_PAUSE = timedelta(days=7)
"""A wait on the client pauses the clock for at most this long: past it, the provider is expected
to act (chase the client, or work around the missing answer) and the clock runs again."""


PRIORITY_FACTORS: dict[str, float] = {"critical": 0.25, "high": 0.5}
"""How the client's priority tightens every target: a problem the client calls critical is to be
acknowledged, owned and updated in a quarter of the usual times, a high one in half; medium, low
or no priority keep the workspace's targets (the client's priority never loosens them)."""


def target_for(target: timedelta, client_priority: str) -> timedelta:
    """The target that applies, given the client's priority (see PRIORITY_FACTORS)."""
    factor = PRIORITY_FACTORS.get(client_priority, 1.0)
    return timedelta(seconds=int(target.total_seconds() * factor))


def target_over_time(
    events: Iterable[tuple[str, datetime]],
    anchor: datetime,
    base: timedelta,
    priorities: Iterable[tuple[datetime, str]],
    until: datetime,
) -> timedelta:
    """The target of a clock started at `anchor` when the client's priority changes over time.

    `priorities` are (moment, priority) pairs; the last one at or before the anchor is in force
    when the clock starts. A priority set later applies from the moment it is set, not from the
    anchor, so that raising it never makes a target missed at once:
    - tighter: what is left is at most the new target, counted from the change (and never more
      than what was left before);
    - looser: the looser target, counted from the anchor (the client gives more time).
    A target already missed when the priority changes stays missed. Changes after `until` (the
    step done, or now) do not count. The result is running time from the anchor, like `base`.
    """
    current = ""
    changes: list[tuple[datetime, str]] = []
    for at, priority in sorted(priorities, key=lambda item: item[0]):
        if at <= anchor:
            current = priority
        elif at <= until:
            changes.append((at, priority))
    limit = target_for(base, current)
    for at, priority in changes:
        elapsed = business_elapsed(events, anchor, at)
        if elapsed > limit:
            break  # already missed: a later priority does not undo it
        new = target_for(base, priority)
        tighter = new < target_for(base, current)
        limit = min(limit, elapsed + new) if tighter else max(limit, new)
        current = priority
    return limit


def _paused_intervals(
    events: Iterable[tuple[str, datetime]],
) -> list[tuple[datetime, datetime | None]]:
    """The paused stretches, in order, each at most MAX_PAUSE long."""
    intervals: list[tuple[datetime, datetime | None]] = []
    paused_since: datetime | None = None
    for kind, at in sorted(((k, a) for k, a in events if k in (PAUSE, RESUME)), key=lambda e: e[1]):
        if kind == PAUSE and paused_since is None:
            paused_since = at
        elif kind == RESUME and paused_since is not None:
            intervals.append((paused_since, min(at, paused_since + MAX_PAUSE)))
            paused_since = None
    if paused_since is not None:
        intervals.append((paused_since, paused_since + MAX_PAUSE))
    return intervals


def business_elapsed(
    events: Iterable[tuple[str, datetime]], start: datetime, end: datetime
) -> timedelta:
    """Time between start and end during which the clock ran (paused stretches excluded)."""
    if end <= start:
        return timedelta(0)
    total = end - start
    for pause_start, pause_end in _paused_intervals(events):
        lo = max(pause_start, start)
        hi = min(pause_end if pause_end is not None else end, end)
        if hi > lo:
            total -= hi - lo
    return total


def business_minutes(events: Iterable[tuple[str, datetime]], start: datetime, end: datetime) -> int:
    """business_elapsed in whole minutes (rounded down)."""
    return int(business_elapsed(events, start, end).total_seconds() // 60)


def is_paused(events: Iterable[tuple[str, datetime]], at: datetime) -> bool:
    """Whether the clock is stopped at this moment."""
    for pause_start, pause_end in _paused_intervals(events):
        if pause_start <= at and (pause_end is None or at < pause_end):
            return True
    return False


def due_at(
    events: Iterable[tuple[str, datetime]], start: datetime, target: timedelta
) -> datetime | None:
    """The moment the running clock reaches `target`, or None while paused with no resume."""
    remaining = target
    cursor = start
    for pause_start, pause_end in _paused_intervals(events):
        if pause_end is not None and pause_end <= cursor:
            continue
        if pause_start > cursor:
            run = pause_start - cursor
            if run >= remaining:
                return cursor + remaining
            remaining -= run
        if pause_end is None:
            return None
        cursor = max(cursor, pause_end)
    return cursor + remaining


def breached(
    events: Iterable[tuple[str, datetime]],
    start: datetime,
    target: timedelta,
    done_at: datetime | None,
    now: datetime,
) -> bool:
    """Whether the target was (or is now) missed: more running time than the target before
    the step was done (or before now, if it is not done yet)."""
    end = done_at if done_at is not None else now
    return business_elapsed(events, start, end) > target
