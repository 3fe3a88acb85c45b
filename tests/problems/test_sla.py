"""The SLA clock: paused while waiting on the client, in pure Python."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confiance.problems import sla
from confiance.problems.sla import PAUSE, RESUME, breached, business_elapsed, due_at, is_paused

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_module_imports_nothing_from_django() -> None:
    tree = ast.parse(Path(sla.__file__).read_text())
    modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert not [m for m in modules if m and m.startswith("django")]


def test_without_pause_elapsed_is_wall_time() -> None:
    assert business_elapsed([], T0, h(5)) == timedelta(hours=5)
    assert business_elapsed([("raised", T0), ("acknowledged", h(1))], T0, h(5)) == timedelta(
        hours=5
    )


def test_end_before_start_is_zero() -> None:
    assert business_elapsed([], h(3), h(1)) == timedelta(0)


def test_pause_is_excluded() -> None:
    events = [(PAUSE, h(1)), (RESUME, h(4))]
    assert business_elapsed(events, T0, h(6)) == timedelta(hours=3)


def test_open_pause_runs_until_the_end() -> None:
    events = [(PAUSE, h(2))]
    assert business_elapsed(events, T0, h(10)) == timedelta(hours=2)
    assert is_paused(events, h(5))
    assert not is_paused(events, h(1))


def test_several_pauses_are_all_excluded() -> None:
    events = [(PAUSE, h(1)), (RESUME, h(2)), (PAUSE, h(3)), (RESUME, h(5))]
    assert business_elapsed(events, T0, h(6)) == timedelta(hours=3)


def test_unsorted_events_are_sorted() -> None:
    events = [(RESUME, h(4)), (PAUSE, h(1))]
    assert business_elapsed(events, T0, h(6)) == timedelta(hours=3)


def test_double_pause_and_stray_resume_are_ignored() -> None:
    events = [(RESUME, h(0.5)), (PAUSE, h(1)), (PAUSE, h(2)), (RESUME, h(4)), (RESUME, h(5))]
    assert business_elapsed(events, T0, h(6)) == timedelta(hours=3)


def test_pause_partly_outside_the_window_is_clipped() -> None:
    events = [(PAUSE, h(-2)), (RESUME, h(1)), (PAUSE, h(5)), (RESUME, h(9))]
    # Window 0..6: paused 0..1 and 5..6, running 4 hours.
    assert business_elapsed(events, T0, h(6)) == timedelta(hours=4)


def test_minutes_round_down() -> None:
    assert sla.business_minutes([], T0, T0 + timedelta(minutes=59, seconds=59)) == 59


def test_due_at_moves_by_the_paused_time() -> None:
    assert due_at([], T0, timedelta(hours=4)) == h(4)
    events = [(PAUSE, h(1)), (RESUME, h(3))]
    assert due_at(events, T0, timedelta(hours=4)) == h(6)
    # A pause after the due moment changes nothing.
    assert due_at([(PAUSE, h(5)), (RESUME, h(7))], T0, timedelta(hours=4)) == h(4)


def test_a_wait_on_the_client_pauses_the_clock_for_a_limited_time_only() -> None:
    # Paused at 1 h and never resumed: the clock runs again after sla.MAX_PAUSE.
    assert due_at([(PAUSE, h(1))], T0, timedelta(hours=4)) == h(4) + sla.MAX_PAUSE
    events = [(PAUSE, h(1)), (RESUME, h(1) + sla.MAX_PAUSE + timedelta(days=30))]
    assert business_elapsed(events, T0, h(1) + sla.MAX_PAUSE + timedelta(days=1)) == h(
        1
    ) - T0 + timedelta(days=1)


def test_breached_compares_running_time_to_the_target() -> None:
    target = timedelta(hours=4)
    assert not breached([], T0, target, done_at=h(3), now=h(10))
    assert breached([], T0, target, done_at=h(5), now=h(10))
    assert breached([], T0, target, done_at=None, now=h(4.1))
    events = [(PAUSE, h(1)), (RESUME, h(3))]
    assert not breached(events, T0, target, done_at=None, now=h(5.5))
    assert breached(events, T0, target, done_at=None, now=h(6.5))


def test_a_tighter_priority_counts_from_the_change_never_beyond_the_old_limit() -> None:
    four = timedelta(hours=4)
    at_raise = [(T0, "critical")]
    assert sla.target_over_time([], T0, four, at_raise, h(9)) == timedelta(hours=1)
    later = [(T0, ""), (h(2), "critical")]
    assert sla.target_over_time([], T0, four, later, h(9)) == timedelta(hours=3)
    late = [(T0, ""), (h(3.5), "critical")]  # 0.5 h left: the critical hour would be more
    assert sla.target_over_time([], T0, four, late, h(9)) == four
    # A pause before the change is not running time: 1 h ran, the critical hour follows.
    pauses = [(PAUSE, h(0.5)), (RESUME, h(1.5))]
    assert sla.target_over_time(pauses, T0, four, later, h(9)) == timedelta(hours=2)


def test_a_looser_priority_gives_its_target_from_the_anchor_but_no_missed_one_back() -> None:
    four = timedelta(hours=4)
    loosened = [(T0, "critical"), (h(0.5), "low")]
    assert sla.target_over_time([], T0, four, loosened, h(9)) == four
    too_late = [(T0, "critical"), (h(2), "low")]  # the critical hour was missed at h(1)
    assert sla.target_over_time([], T0, four, too_late, h(9)) == timedelta(hours=1)
    # A change after the step was done (until) does not count.
    assert sla.target_over_time([], T0, four, [(T0, ""), (h(2), "critical")], h(1)) == four
