"""The consumption figures as a fold over the engagement's ledgered facts (no Django import).

Every figure of the consumption page is `fold`ed from the facts appended to the ledger, in
ledger order: time entries and corrections, budget revisions, the team's remaining-work
estimates, and the parameters that change a figure (minutes per working day, activity names,
rates and role titles). The same fold maintains the rollups on write (`rollups.py`), recomputes
them in the reconciliation (`audit.py`), and is mirrored by the browser check
(`static/confiance/consumption-verify.js`), so the three cannot drift apart silently.

A fold only reads the leaf's consumption fields; leaves of other kinds (commitments, problems,
closure...) leave the figures unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ENTRY_KINDS = frozenset({"time_entry", "time_entry.correction"})
CONSUMPTION_KINDS = ENTRY_KINDS | {
    "budget.revised",
    "estimate.remaining",
    "parameter.set",
    "activity.created",
    "rate.set",
    "team.set",
}
# Rollup dimensions: minutes and entry counts per day worked, person, activity; and the count of
# original entries per logging delay in days (for "logged late", whatever the threshold).
DAY, PERSON, ACTIVITY, DELAY = "day", "person", "activity", "delay"
DIMENSIONS = (DAY, PERSON, ACTIVITY, DELAY)
MAX_DELAY_BUCKET = 366  # delays beyond a year count as a year: the threshold is never that high


@dataclass
class Cell:
    """One rollup cell: signed minutes and the number of entries (reversals count -1)."""

    minutes: int = 0
    entries: int = 0


def _value(leaf: Mapping[str, Any], name: str) -> Any:
    """A field's value, or None when absent or only committed (the reader lacks its opening)."""
    value = leaf.get(name)
    if isinstance(value, dict):  # a salted commitment with no opening: the value is unknown
        opened = value.get("value")
        return opened if "value" in value else None
    return value


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


@dataclass
class Figures:
    """The state of the fold after `size` leaves (the tree size the figures are computed at)."""

    size: int = 0
    last_fact: int | None = None  # index of the last consumption fact folded
    consumed_minutes: int = 0
    entry_count: int = 0  # original entries (corrections not counted)
    entry_rows: int = 0  # rows of the entries table: originals, reversals, replacements
    minutes_per_day: int | None = None
    late_logging_days: int | None = None  # entries logged after this many days are "late"
    budget_days: Decimal | None = None
    budget_amount: Decimal | None = None
    budget_currency: str = ""
    budget_index: int | None = None
    estimate_minutes: int | None = None
    estimate_index: int | None = None
    estimate_at: str = ""
    rates: dict[str, str] = field(default_factory=dict)  # "person:<email>" / "title:<t>" -> rate
    titles: dict[str, str] = field(default_factory=dict)  # email -> role title on the team
    activities: dict[str, str] = field(default_factory=dict)  # activity id -> ledgered name
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    @property
    def budget_minutes(self) -> int | None:
        """The budget in minutes: ledgered days times the ledgered minutes per day."""
        if self.budget_days is None or self.minutes_per_day is None:
            return None
        return int(self.budget_days * self.minutes_per_day)

    def cell(self, dimension: str, key: str) -> Cell:
        found = self.cells.get((dimension, key))
        if found is None:
            found = self.cells[(dimension, key)] = Cell()
        return found

    def fold(self, index: int, kind: str, leaf: Mapping[str, Any]) -> None:
        """Fold the leaf at `index` (its kind and fields) into the figures."""
        self.size = max(self.size, index + 1)
        if kind not in CONSUMPTION_KINDS:
            return
        self.last_fact = index
        if kind != "parameter.set" and leaf.get("minutes_per_day") is not None:
            # The engagement's first fact carries the minutes per day it is counted with.
            self.minutes_per_day = int(leaf["minutes_per_day"])
        if kind != "parameter.set" and leaf.get("late_logging_days") is not None:
            self.late_logging_days = int(leaf["late_logging_days"])
        if kind in ENTRY_KINDS:
            self._entry(leaf)
        elif kind == "budget.revised":
            self.budget_days = _decimal(_value(leaf, "days"))
            self.budget_amount = _decimal(_value(leaf, "amount"))
            self.budget_currency = str(_value(leaf, "currency") or "")
            self.budget_index = index
        elif kind == "estimate.remaining":
            self.estimate_minutes = int(_value(leaf, "remaining_minutes"))
            self.estimate_index = index
            self.estimate_at = str(leaf.get("at") or "")
        elif kind == "parameter.set":
            if leaf.get("name") == "minutes_per_day":
                self.minutes_per_day = int(_value(leaf, "value"))
            elif leaf.get("name") == "late_logging_days":
                self.late_logging_days = int(_value(leaf, "value"))
        elif kind == "activity.created":
            self.activities[str(leaf.get("activity"))] = str(_value(leaf, "name"))
        elif kind == "rate.set":
            rate = _value(leaf, "daily_rate")
            key = f"person:{leaf['person']}" if leaf.get("person") else f"title:{leaf['title']}"
            if rate is not None:
                self.rates[key] = str(rate)
        elif kind == "team.set":
            self.titles[str(_value(leaf, "person"))] = str(_value(leaf, "title") or "")

    def _entry(self, leaf: Mapping[str, Any]) -> None:
        minutes = int(leaf["minutes"])
        count = -1 if minutes < 0 else 1
        self.entry_rows += 1  # one time entry row per ledgered entry fact
        self.consumed_minutes += minutes
        for dimension, key in (
            (DAY, str(leaf["date"])),
            (PERSON, str(_value(leaf, "person") or "")),
            (ACTIVITY, str(leaf.get("activity") or "")),
        ):
            cell = self.cell(dimension, key)
            cell.minutes += minutes
            cell.entries += count
        if leaf.get("entry_kind") == "original":
            self.entry_count += 1
            logged_on = leaf.get("logged_on") or str(leaf.get("at") or "")[:10]
            delay = 0
            if logged_on:
                delay = (date.fromisoformat(logged_on) - date.fromisoformat(leaf["date"])).days
            bucket = self.cell(DELAY, str(min(max(delay, 0), MAX_DELAY_BUCKET)))
            bucket.entries += 1

    def rate_of(self, email: str) -> Decimal | None:
        """A person's ledgered daily rate: their own, else their team title's, else None."""
        rate = self.rates.get(f"person:{email}")
        if rate is None and email in self.titles:
            rate = self.rates.get(f"title:{self.titles[email]}")
        return None if rate is None else Decimal(rate)
