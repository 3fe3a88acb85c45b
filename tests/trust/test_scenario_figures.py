"""The scenario suite's summary fails the run when a figure misses its target (no database)."""

from __future__ import annotations

from tests.trust.scenario_figures import Outcome, figures, shortfalls


def _outcomes(first_alerts: list[int | None], healthy_alerts: int = 0) -> list[Outcome]:
    trouble = [
        Outcome(f"t{i}", 80, day, (f"d{day}:drop/c2p",) if day is not None else (), 0)
        for i, day in enumerate(first_alerts)
    ]
    healthy = [
        Outcome(f"h{i}", None, None, ("d9:drop/c2p",) * (healthy_alerts if i == 0 else 0), 0)
        for i in range(5)
    ]
    return trouble + healthy


def test_figures_that_meet_the_targets_pass() -> None:
    found = figures(_outcomes([50] * 9 + [70]))
    assert (found.alerted_before, found.trouble, found.median_lead) == (10, 10, 30)
    assert shortfalls(found) == []


def test_a_false_alert_a_late_alert_or_a_short_lead_fails_the_run() -> None:
    assert shortfalls(figures(_outcomes([50] * 10, healthy_alerts=1)))  # a false alert
    assert shortfalls(figures(_outcomes([50] * 8 + [85, None])))  # 80 % alerted before
    assert shortfalls(figures(_outcomes([70] * 10)))  # median lead 10 days
    assert shortfalls(figures(_outcomes([50] * 9)))  # fewer than ten trouble histories


def test_an_outcome_travels_between_processes_unchanged() -> None:
    outcome = Outcome("unpaid", 80, 47, ("d47:drop/p2c", "d47:payment_overdue/p2c"), 18)
    assert Outcome.loads(outcome.dumps()) == outcome
    assert outcome.lead == 33
