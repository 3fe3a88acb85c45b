"""Reads of consumption: the figures both sides see, read from the ledgered facts' rollups.

Every figure comes from `figures.Figures` as the rollups hold it (`rollups.py`), which is the
fold of the engagement's ledger; nothing is summed over the entries table. A page costs the
same few queries at 1,000 and at 1,000,000 entries; only one page of entries is ever loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.consumption.figures import ACTIVITY, DAY, DELAY, PERSON, Figures
from confiance.consumption.models import (
    Activity,
    BudgetRevision,
    ConsumptionTotals,
    LedgerAudit,
    TimeEntry,
)
from confiance.consumption.rollups import figures_load
from confiance.core.models import Membership, User
from confiance.core.queries import Prepared, PreparedIn, build, build_all, columns
from confiance.engagements.models import Engagement, EngagementStatus

if TYPE_CHECKING:
    from confiance.engagements.selectors import TableRow

# Status thresholds on the forecast at completion, as a share of the budget.
UNDER_BUDGET_BELOW = Decimal("0.95")
PACE_WEEKS = 4
# The burn-up shows at most this many weeks (ten years): a mistyped date cannot make it huge.
MAX_CHART_WEEKS = 520


@dataclass
class Breakdown:
    label: str
    minutes: int
    amount: Decimal | None = None

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))


@dataclass
class WeekPoint:
    week: date  # Monday
    minutes: int
    cumulative: int

    @property
    def hours(self) -> Decimal:
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.1"))


@dataclass
class ConsumptionSummary:
    engagement: Engagement | TableRow  # a table row on the lists (glance)
    show_amounts: bool
    show_internal: bool
    minutes_per_day: int
    budget_minutes: int | None
    budget_amount: Decimal | None
    consumed_minutes: int
    consumed_amount: Decimal | None
    estimate_minutes: int | None
    estimate_at: datetime | None
    forecast_minutes: int | None  # consumed + the team's remaining-work estimate
    projection_minutes: int | None  # consumed + recent pace until the planned end
    pace_minutes_per_week: int
    late_entries: int
    late_after_days: int  # the ledgered threshold (the workspace's before anything is ledgered)
    entry_count: int
    figures_size: int  # the ledger's tree size the figures were folded at
    minutes_per_day_ledgered: bool
    audit: LedgerAudit | None = None
    audit_findings: list[str] = field(default_factory=list)
    weeks: list[WeekPoint] = field(default_factory=list)
    by_person: list[Breakdown] = field(default_factory=list)
    by_activity: list[Breakdown] = field(default_factory=list)

    @property
    def has_budget(self) -> bool:
        return self.budget_minutes is not None or self.budget_amount is not None

    @property
    def percent(self) -> int | None:
        if not self.budget_minutes:
            return None
        return round(100 * self.consumed_minutes / self.budget_minutes)

    @property
    def forecast_percent(self) -> int | None:
        if not self.budget_minutes or self.forecast_minutes is None:
            return None
        return round(100 * self.forecast_minutes / self.budget_minutes)

    @property
    def forecast_basis(self) -> str:
        """Which forecast drives the status: the team's estimate, else the recent pace.

        The team's estimate of the work left is a ledgered judgement of the people doing the
        work; the pace is a mechanical extrapolation, shown beside it as a cross-check.
        """
        if self.forecast_minutes is not None:
            return "estimate"
        if self.projection_minutes is not None:
            return "pace"
        return "consumed"

    @property
    def expected_minutes(self) -> int:
        if self.forecast_minutes is not None:
            return self.forecast_minutes
        if self.projection_minutes is not None:
            return self.projection_minutes
        return self.consumed_minutes

    @property
    def status(self) -> str:
        """under, on, at_risk (the forecast exceeds the budget) or over (consumed exceeds it).

        'unknown' without a budget in days. Each status has its own colour and only one.
        """
        if not self.budget_minutes:
            return "unknown"
        if self.consumed_minutes > self.budget_minutes:
            return "over"
        if self.expected_minutes > self.budget_minutes:
            return "at_risk"
        if self.expected_minutes < self.budget_minutes * UNDER_BUDGET_BELOW:
            return "under"
        return "on"

    def days(self, minutes: int | None) -> Decimal | None:
        if minutes is None:
            return None
        return (Decimal(minutes) / self.minutes_per_day).quantize(Decimal("0.1"))

    @property
    def consumed_days(self) -> Decimal | None:
        return self.days(self.consumed_minutes)

    @property
    def budget_days(self) -> Decimal | None:
        return self.days(self.budget_minutes)

    @property
    def forecast_days(self) -> Decimal | None:
        return self.days(self.forecast_minutes)

    @property
    def projection_days(self) -> Decimal | None:
        return self.days(self.projection_minutes)

    @property
    def remaining_days(self) -> Decimal | None:
        return self.days(self.estimate_minutes)

    @property
    def pace_days_per_week(self) -> Decimal | None:
        return self.days(self.pace_minutes_per_week)

    def chart_data(self) -> dict[str, object]:
        """Burn-up chart series (in days): actual, budget line and forecast to completion.

        A closed engagement shows its whole history, from its start to its last entry.
        """
        weeks = self.weeks
        start = self.engagement.start_date
        if weeks and start is not None and _monday(start) < weeks[0].week:
            lead = []
            week = max(_monday(start), weeks[0].week - timedelta(weeks=MAX_CHART_WEEKS))
            while week < weeks[0].week:
                lead.append(WeekPoint(week, 0, 0))
                week += timedelta(days=7)
            weeks = lead + weeks
        labels = [w.week.isoformat() for w in weeks]
        actual: list[float | None] = [float(self.days(w.cumulative) or 0) for w in weeks]
        end = self.engagement.end_date
        forecast: list[float | None] = [None] * len(labels)
        target = self.forecast_minutes if self.forecast_basis == "estimate" else None
        target = target if target is not None else self.projection_minutes
        open_ = self.engagement.status in (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)
        if open_ and weeks and end is not None and target is not None:
            last = weeks[-1].week
            forecast[-1] = actual[-1]
            week = last + timedelta(days=7)
            while week <= end + timedelta(days=6) and len(labels) < 2 * MAX_CHART_WEEKS:
                labels.append(week.isoformat())
                actual.append(None)
                forecast.append(None)
                week += timedelta(days=7)
            forecast[-1] = float(self.days(target) or 0)
        budget = float(self.days(self.budget_minutes) or 0) if self.budget_minutes else None
        return {"labels": labels, "actual": actual, "forecast": forecast, "budget": budget}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks(figures: Figures) -> list[WeekPoint]:
    weekly: dict[date, int] = {}
    for (dimension, key), cell in figures.cells.items():
        if dimension == DAY and cell.minutes:
            monday = _monday(date.fromisoformat(key))
            weekly[monday] = weekly.get(monday, 0) + cell.minutes
    weeks: list[WeekPoint] = []
    if not weekly:
        return weeks
    running = 0
    last = max(weekly)
    week = max(min(weekly), last - timedelta(weeks=MAX_CHART_WEEKS))
    running = sum(m for w, m in weekly.items() if w < week)
    while week <= last:
        running += weekly.get(week, 0)
        weeks.append(WeekPoint(week, weekly.get(week, 0), running))
        week += timedelta(days=7)
    return weeks


_MONEY_FIGURES = {"budget_amount", "rates"}


def audit_messages(audit: LedgerAudit | None, *, show_amounts: bool) -> list[str]:
    """The reconciliation's findings as sentences for this reader (no amount unless shown)."""
    if audit is None:
        return []
    messages = []
    for finding in audit.findings:
        code = finding.get("code")
        values = {k: "—" if v is None else v for k, v in finding.items()}
        money = (code == "rate_changed") or (
            code in ("budget_changed", "rollup_differs")
            and (values.get("field") == "amount" or values.get("figure") in _MONEY_FIGURES)
        )
        if money and not show_amounts:
            messages.append(_("An amount or a rate differs from its ledgered value."))
        elif code == "entry_changed":
            messages.append(
                _(
                    "Time entry #%(entry)s: its %(field)s is %(table)s in the table but "
                    "%(ledger)s in the ledger (entry %(index)s)."
                )
                % values
            )
        elif code == "entry_without_leaf":
            messages.append(
                _("Time entry #%(entry)s is in the table but not in the ledger.") % values
            )
        elif code == "leaf_without_entry":
            messages.append(_("Ledger entry %(index)s has no time entry in the table.") % values)
        elif code == "budget_without_leaf":
            messages.append(_("A budget revision in the table is not in the ledger."))
        elif code == "budget_changed":
            messages.append(
                _(
                    "Budget revision of ledger entry %(index)s: %(field)s is %(table)s in the "
                    "table but %(ledger)s in the ledger."
                )
                % values
            )
        elif code == "estimate_changed":
            messages.append(
                _(
                    "Estimate of ledger entry %(index)s: %(table)s minutes in the table but "
                    "%(ledger)s in the ledger."
                )
                % values
            )
        elif code == "activity_renamed":
            messages.append(
                _("The activity named “%(table)s” is “%(ledger)s” in the ledger.") % values
            )
        elif code == "rate_changed":
            messages.append(
                _("The rate %(rate)s is %(table)s in the table but %(ledger)s in the ledger.")
                % values
            )
        elif code == "late_logging_days_changed":
            messages.append(
                _(
                    "The workspace counts an entry late after %(table)s days, but this "
                    "engagement's ledger says %(ledger)s."
                )
                % values
            )
        elif code == "minutes_per_day_changed":
            messages.append(
                _(
                    "The workspace counts %(table)s minutes a working day, but this "
                    "engagement's ledger says %(ledger)s."
                )
                % values
            )
        elif code == "rollup_differs":
            messages.append(
                _("The stored figure %(figure)s is %(table)s but the ledger gives %(ledger)s.")
                % values
            )
        elif code == "more":
            messages.append(_("… and %(count)s more differences.") % values)
        else:
            messages.append(_("A row differs from the ledger."))
    return messages


def _estimate_at(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


# Read on every view of the consumption page: compiled once per process (core.queries).
_AUDIT = Prepared(
    lambda engagement_id: (
        LedgerAudit.objects.filter(engagement_id=engagement_id)
        .order_by("pk")[:1]
        .values_list(*columns(LedgerAudit))
    ),
    engagement_id=int,
)


def consumption_summary(
    *,
    fetched_by: Membership,
    engagement: Engagement,
    figures: Figures | None = None,
    people: Sequence[User] | None = None,
) -> ConsumptionSummary:
    """Everything the consumption page shows; the same numbers for both sides.

    Read from the rollups of the ledgered facts (`figures`, when the caller loaded them
    already; `people`, those of `people_who_logged`): a constant number of queries.
    """
    workspace = engagement.workspace
    show_amounts = access.can_see_amounts(fetched_by)
    figures = figures if figures is not None else figures_load(engagement=engagement)
    ledgered = figures.minutes_per_day is not None
    minutes_per_day = figures.minutes_per_day or workspace.minutes_per_day
    figures.minutes_per_day = minutes_per_day
    consumed = figures.consumed_minutes

    if people is None:
        people = people_who_logged(figures)
    names = {person.email: person.full_name or person.email for person in people}
    by_person = []
    consumed_amount: Decimal | None = None
    for (dimension, email), cell in figures.cells.items():
        if dimension != PERSON or not cell.minutes:
            continue
        amount = None
        rate = figures.rate_of(email) if show_amounts else None
        if rate is not None:
            amount = (rate * Decimal(cell.minutes) / minutes_per_day).quantize(Decimal("0.01"))
            consumed_amount = (consumed_amount or Decimal(0)) + amount
        by_person.append(Breakdown(names.get(email, email), cell.minutes, amount))
    by_person.sort(key=lambda b: (-b.minutes, b.label))
    by_activity = sorted(
        (
            Breakdown(key or "—", cell.minutes)
            for (dimension, key), cell in figures.cells.items()
            if dimension == ACTIVITY and cell.minutes
        ),
        key=lambda b: (-b.minutes, b.label),
    )
    late_after = (
        figures.late_logging_days
        if figures.late_logging_days is not None
        else workspace.late_logging_days
    )
    late = sum(
        cell.entries
        for (dimension, key), cell in figures.cells.items()
        if dimension == DELAY and int(key) > late_after
    )

    # Linear projection from the recent pace, beside the team's own estimate.
    today = timezone.localdate()
    since = (today - timedelta(weeks=PACE_WEEKS)).isoformat()
    recent = sum(
        cell.minutes
        for (dimension, key), cell in figures.cells.items()
        if dimension == DAY and since < key <= today.isoformat()
    )
    pace = recent // PACE_WEEKS
    projection = None
    if engagement.end_date is not None and engagement.status in (
        EngagementStatus.ACTIVE,
        EngagementStatus.PAUSED,
    ):
        weeks_left = max(0, (engagement.end_date - today).days) / 7
        projection = consumed + int(pace * weeks_left)
    audit = None
    for row in _AUDIT.rows(engagement_id=engagement.pk):
        audit, _at = build(LedgerAudit, row)
    estimate = figures.estimate_minutes
    forecast = consumed + estimate if estimate is not None else None

    return ConsumptionSummary(
        engagement=engagement,
        show_amounts=show_amounts,
        show_internal=access.can_see_internal_notes(fetched_by),
        minutes_per_day=minutes_per_day,
        budget_minutes=figures.budget_minutes,
        budget_amount=figures.budget_amount if show_amounts else None,
        consumed_minutes=consumed,
        consumed_amount=consumed_amount,
        estimate_minutes=estimate,
        estimate_at=_estimate_at(figures.estimate_at),
        forecast_minutes=forecast,
        projection_minutes=projection,
        pace_minutes_per_week=pace,
        late_entries=late,
        late_after_days=late_after,
        entry_count=figures.entry_count,
        figures_size=figures.size,
        minutes_per_day_ledgered=ledgered,
        audit=audit,
        audit_findings=audit_messages(audit, show_amounts=show_amounts),
        weeks=_weeks(figures),
        by_person=by_person,
        by_activity=by_activity,
    )


def entry_list(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[TimeEntry]:
    """The engagement's entries, newest first, with what a row shows (one query a page)."""
    access.check_engagement(fetched_by, engagement)
    return (
        TimeEntry.objects.filter(engagement=engagement)
        .select_related("person", "activity")
        .order_by("-date", "-id")
    )


@dataclass(slots=True)
class EntryRow:
    """What the entries table shows of one time entry (tables.entry_rows), read as values: no
    model instance, and of its person only the name shown."""

    pk: int
    kind: str
    date: date
    minutes: int
    shared_note: str
    internal_note: str  # shown to the provider's people only (tables.entry_rows)
    corrects_id: int | None
    correction_reason: str
    created_at: datetime
    person_name: str  # User.get_full_name: the full name, or the address
    activity_name: str | None
    is_corrected: bool = False  # set by mark_corrected


ENTRY_ROW_NAMES = (
    "pk",
    "kind",
    "date",
    "minutes",
    "shared_note",
    "internal_note",
    "corrects_id",
    "correction_reason",
    "created_at",
    "person__full_name",
    "person__email",
    "activity__name",
)


def entry_rows_of(rows: Sequence[Sequence[Any]]) -> list[EntryRow]:
    """The `EntryRow`s of some `values_list(*ENTRY_ROW_NAMES)` rows."""
    return [
        EntryRow(pk, kind, day, minutes, shared, internal, corrects, reason, at, name or email, a)
        for pk, kind, day, minutes, shared, internal, corrects, reason, at, name, email, a in rows
    ]


# The first page of entries, the one nearly every view shows: compiled once per process and
# page length (core.queries); `entry_list`'s query and order, as the table's rows.
@functools.cache
def _first_entries(size: int) -> Prepared:
    return Prepared(
        lambda engagement_id: (
            TimeEntry.objects.filter(engagement_id=engagement_id)
            .order_by("-date", "-id")[:size]
            .values_list(*ENTRY_ROW_NAMES)
        ),
        engagement_id=int,
    )


def entry_first_page(
    *, fetched_by: Membership, engagement: Engagement, size: int
) -> list[EntryRow]:
    """The first `size` rows of `entry_list`, as the table shows them."""
    access.check_engagement(fetched_by, engagement)
    return entry_rows_of(_first_entries(size).rows(engagement_id=engagement.pk))


def entry_row_count(*, engagement: Engagement, figures: Figures) -> int:
    """How many rows the engagement's entries table holds, corrections included.

    From the rollups (one row per ledgered entry fact), not a COUNT over a million rows.
    """
    return figures.entry_rows


def ledger_leaves(*, engagement: Engagement, start: int, end: int) -> list[list[object]]:
    """[index, data] of the engagement's ledger leaves in [start, end), as stored (one query).

    The caller obtained the engagement through the access policy; the data is what the ledger
    bundle gives the same reader.
    """
    from confiance.ledger.models import LedgerEntry

    return [
        [index, data]
        for index, data in LedgerEntry.objects.filter(
            engagement_id=engagement.pk, index__gte=start, index__lt=end
        )
        .order_by("index")
        .values_list("index", "data")
    ]


# Compiled once per process and list length (core.queries): read on every consumption page.
_PEOPLE_BY_EMAIL = PreparedIn(
    lambda emails: (
        User.objects.filter(email__in=emails)
        .order_by("full_name", "pk")
        .values_list(*columns(User))
    ),
    "emails",
    item=str,
)


def people_who_logged(figures: Figures) -> list[User]:
    """The people with a cell in the rollups (those who logged time here, even if every entry
    of theirs was corrected away since), by name: one query, no scan of the entries."""
    emails = [key for (dimension, key) in figures.cells if dimension == PERSON]
    return build_all(User, _PEOPLE_BY_EMAIL.rows(emails=emails))


_ACTIVITIES = Prepared(
    lambda engagement_id: (
        Activity.objects.filter(engagement_id=engagement_id)
        .order_by("name")
        .values_list(*columns(Activity))
    ),
    engagement_id=int,
)


def activities_all(*, engagement: Engagement) -> list[Activity]:
    """The engagement's activities by name, active or not (one query compiled once)."""
    return build_all(Activity, _ACTIVITIES.rows(engagement_id=engagement.pk))


# Compiled once per process and page length (core.queries): read on every consumption page.
_CORRECTED = PreparedIn(
    lambda ids: TimeEntry.objects.filter(corrects_id__in=ids).values_list("corrects_id"), "ids"
)


def mark_corrected(entries: list[EntryRow]) -> None:
    """Set `is_corrected` on a page of entries, in one query (not a GROUP BY over all)."""
    corrected = {row[0] for row in _CORRECTED.rows(ids=[e.pk for e in entries])}
    for entry in entries:
        entry.is_corrected = entry.pk in corrected  # type: ignore[attr-defined]


def budget_history(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[BudgetRevision]:
    access.check_engagement(fetched_by, engagement)
    return engagement.budget_revisions.select_related("changed_by").order_by("-created_at", "-id")


# The page's last ten, compiled once per process (core.queries).
_LAST_BUDGETS = Prepared(
    lambda engagement_id: (
        BudgetRevision.objects.filter(engagement_id=engagement_id)
        .order_by("-created_at", "-id")[:10]
        .values_list(*columns(BudgetRevision), *columns(User, "changed_by__"))
    ),
    engagement_id=int,
)


def budget_history_last(*, fetched_by: Membership, engagement: Engagement) -> list[BudgetRevision]:
    """`budget_history`'s ten latest revisions with who changed them."""
    access.check_engagement(fetched_by, engagement)
    revisions = []
    for row in _LAST_BUDGETS.rows(engagement_id=engagement.pk):
        revision, at = build(BudgetRevision, row)
        changed_by, at = build(User, row, at)
        assert revision is not None
        revision.changed_by = changed_by  # type: ignore[assignment]
        revisions.append(revision)
    return revisions


def activity_list(*, engagement: Engagement) -> QuerySet[Activity]:
    return engagement.activities.filter(is_active=True).order_by("name")


@dataclass
class PortfolioFigure:
    closed: int
    with_budget: int
    under_budget: int
    average_margin_percent: Decimal | None  # how far under budget, on average, when under

    @property
    def share_under_budget(self) -> int | None:
        return round(100 * self.under_budget / self.with_budget) if self.with_budget else None


def portfolio_under_budget(*, fetched_by: Membership) -> PortfolioFigure:
    """Share of closed engagements delivered under budget, and by how much (two queries).

    From each engagement's ledgered totals: its budget in days at its ledgered minutes per day.
    """
    engagements = Engagement.objects.visible_to(fetched_by).filter(status=EngagementStatus.CLOSED)
    closed = engagements.count()
    margins: list[Decimal] = []
    with_budget = 0
    for days, minutes_per_day, consumed in ConsumptionTotals.objects.filter(
        engagement__in=engagements, budget_days__isnull=False, minutes_per_day__isnull=False
    ).values_list("budget_days", "minutes_per_day", "consumed_minutes"):
        if days is None or minutes_per_day is None:  # excluded by the query; narrows the types
            continue
        with_budget += 1
        budget = days * minutes_per_day
        used = Decimal(consumed)
        if used < budget:
            margins.append((budget - used) / budget * 100)
    average = None
    if margins:
        average = (sum(margins, Decimal(0)) / len(margins)).quantize(Decimal("0.1"))
    return PortfolioFigure(
        closed=closed,
        with_budget=with_budget,
        under_budget=len(margins),
        average_margin_percent=average,
    )
