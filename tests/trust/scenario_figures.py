"""The scenario suite's figures over every history: share alerted before the complaint, median
lead, false alerts (docs/trust.md, "Scenario suite").

Pure Python, no Django: each history is one test (tests/trust/test_scenarios.py, spread over the
xdist workers), and the session's summary (tests/conftest.py) computes these figures from the
outcomes the workers send back, then fails the run if one falls below its target.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

TARGET_SHARE = 0.9  # of the trouble histories, alerted before the complaint
TARGET_MEDIAN_LEAD = 14  # days
MIN_TROUBLE, MIN_HEALTHY = 10, 5
PROPERTY = "trust_scenario"  # the name of the test report property carrying an outcome


@dataclass(frozen=True)
class Outcome:
    """What one history gave: its first alert against the day the client would complain."""

    name: str
    complaint: int | None  # None: a healthy history
    first_alert_day: int | None
    alerts: tuple[str, ...]
    of: int  # how many histories the suite declares (the summary waits for all of them)

    @property
    def lead(self) -> int | None:
        if self.complaint is None or self.first_alert_day is None:
            return None
        return self.complaint - self.first_alert_day

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> Outcome:
        data = json.loads(text)
        return cls(**{**data, "alerts": tuple(data["alerts"])})


@dataclass
class Figures:
    trouble: int
    alerted_before: int
    median_lead: float | None
    false_alerts: int
    healthy: int

    @property
    def share(self) -> float:
        return self.alerted_before / self.trouble if self.trouble else 0.0


def figures(outcomes: Iterable[Outcome]) -> Figures:
    outcomes = list(outcomes)
    trouble = [o for o in outcomes if o.complaint is not None]
    leads = [o.lead for o in trouble if o.lead is not None and o.lead > 0]
    healthy = [o for o in outcomes if o.complaint is None]
    return Figures(
        trouble=len(trouble),
        alerted_before=len(leads),
        median_lead=statistics.median(leads) if leads else None,
        false_alerts=sum(len(o.alerts) for o in healthy),
        healthy=len(healthy),
    )


def shortfalls(found: Figures) -> list[str]:
    """The targets the figures miss (none: the suite passes)."""
    missed = []
    if found.trouble < MIN_TROUBLE or found.healthy < MIN_HEALTHY:
        missed.append(f"too few histories: {found.trouble} trouble, {found.healthy} healthy")
    if found.false_alerts:
        missed.append(f"{found.false_alerts} false alert(s) on healthy histories")
    if found.share < TARGET_SHARE:
        missed.append(f"alerted before the complaint {found.share:.0%} < {TARGET_SHARE:.0%}")
    if found.median_lead is None or found.median_lead < TARGET_MEDIAN_LEAD:
        missed.append(f"median lead {found.median_lead} days < {TARGET_MEDIAN_LEAD}")
    return missed


def report(outcomes: Iterable[Outcome], out: Callable[[str], None] = print) -> Figures:
    outcomes = list(outcomes)
    found = figures(outcomes)
    for o in outcomes:
        kind = "trouble" if o.complaint is not None else "healthy"
        complaint = f"complaint d{o.complaint}" if o.complaint is not None else ""
        out(f"{kind:8} {o.name:20} {complaint:14} lead={o.lead} alerts={list(o.alerts)}")
    out(
        f"alerted before the complaint: {found.alerted_before}/{found.trouble} "
        f"({found.share:.0%}); median lead {found.median_lead} days; "
        f"false alerts {found.false_alerts} on {found.healthy} healthy histories"
    )
    return found
