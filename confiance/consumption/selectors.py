"""Reads of consumption: the figures both sides see, computed by aggregate queries.

The number of queries does not grow with the number of entries: totals, weeks, people and
activities are each one GROUP BY, and only one page of entries is ever loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from confiance import access
from confiance.consumption.models import (
    Activity,
    BudgetRevision,
    Rate,
    RemainingEstimate,
    TeamMember,
    TimeEntry,
)
from confiance.core.models import Membership
from confiance.engagements.models import Engagement, EngagementStatus

# Status thresholds on the forecast at completion, as a share of the budget.
UNDER_BUDGET_BELOW = Decimal("0.95")
PACE_WEEKS = 4


@dataclass
class Breakdown:
    label: str
    minutes: int
    amount: Decimal | None = None


@dataclass
class WeekPoint:
    week: date  # Monday
    minutes: int
    cumulative: int


@dataclass
class ConsumptionSummary:
    engagement: Engagement
    show_amounts: bool
    show_internal: bool
    minutes_per_day: int
    budget: BudgetRevision | None
    budget_minutes: int | None
    consumed_minutes: int
    consumed_amount: Decimal | None
    estimate: RemainingEstimate | None
    forecast_minutes: int | None  # consumed + the team's remaining-work estimate
    projection_minutes: int | None  # consumed + recent pace until the planned end
    pace_minutes_per_week: int
    late_entries: int
    entry_count: int
    weeks: list[WeekPoint] = field(default_factory=list)
    by_person: list[Breakdown] = field(default_factory=list)
    by_activity: list[Breakdown] = field(default_factory=list)

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
    def status(self) -> str:
        """under, on or over budget; 'unknown' without a budget in days."""
        if not self.budget_minutes:
            return "unknown"
        expected = self.forecast_minutes
        if expected is None:
            expected = self.projection_minutes
        if expected is None:
            expected = self.consumed_minutes
        if self.consumed_minutes > self.budget_minutes or expected > self.budget_minutes:
            return "over"
        if expected < self.budget_minutes * UNDER_BUDGET_BELOW:
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
        return self.days(self.estimate.remaining_minutes) if self.estimate else None

    @property
    def pace_days_per_week(self) -> Decimal | None:
        return self.days(self.pace_minutes_per_week)

    def chart_data(self) -> dict[str, object]:
        """Burn-up chart series (in days): actual, budget line and forecast to completion."""
        labels = [w.week.isoformat() for w in self.weeks]
        actual = [float(self.days(w.cumulative) or 0) for w in self.weeks]
        end = self.engagement.end_date
        forecast: list[float | None] = [None] * len(labels)
        target = (
            self.forecast_minutes if self.forecast_minutes is not None else self.projection_minutes
        )
        if labels and end is not None and target is not None:
            last = self.weeks[-1].week
            forecast[-1] = actual[-1]
            week = last + timedelta(days=7)
            while week <= end + timedelta(days=6):
                labels.append(week.isoformat())
                actual.append(None)  # type: ignore[arg-type]
                forecast.append(None)
                week += timedelta(days=7)
            forecast[-1] = float(self.days(target) or 0)
        budget = float(self.days(self.budget_minutes) or 0) if self.budget_minutes else None
        return {"labels": labels, "actual": actual, "forecast": forecast, "budget": budget}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _rates(engagement: Engagement) -> tuple[dict[int, Decimal], dict[str, Decimal]]:
    per_person: dict[int, Decimal] = {}
    per_title: dict[str, Decimal] = {}
    for rate in Rate.objects.filter(engagement=engagement):
        if rate.user_id is not None:
            per_person[rate.user_id] = rate.daily_rate
        else:
            per_title[rate.title] = rate.daily_rate
    titles = dict(TeamMember.objects.filter(engagement=engagement).values_list("user_id", "title"))
    for user_id, title in titles.items():
        if user_id not in per_person and title in per_title:
            per_person[user_id] = per_title[title]
    return per_person, per_title


def consumption_summary(*, fetched_by: Membership, engagement: Engagement) -> ConsumptionSummary:
    """Everything the consumption page shows; the same numbers for both sides."""
    workspace = engagement.workspace
    show_amounts = access.can_see_amounts(fetched_by)
    entries = TimeEntry.objects.filter(engagement=engagement)
    totals = entries.aggregate(
        minutes=Coalesce(Sum("minutes"), 0),
        count=Count("id", filter=Q(kind="original")),
        late=Count(
            "id",
            filter=Q(kind="original", log_delay_days__gt=workspace.late_logging_days),
        ),
        first=Min("date"),
        last=Max("date"),
    )
    budget = engagement.budget_revisions.order_by("-created_at", "-id").first()
    budget_minutes = (
        int(budget.days * workspace.minutes_per_day) if budget and budget.days is not None else None
    )
    estimate = engagement.remaining_estimates.order_by("-created_at", "-id").first()
    consumed = int(totals["minutes"])

    weekly: dict[date, int] = {}
    for day, minutes in entries.values_list("date").annotate(m=Sum("minutes")).order_by("date"):
        weekly[_monday(day)] = weekly.get(_monday(day), 0) + int(minutes)
    weeks, running = [], 0
    if weekly:
        week = min(weekly)
        while week <= max(weekly):
            running += weekly.get(week, 0)
            weeks.append(WeekPoint(week, weekly.get(week, 0), running))
            week += timedelta(days=7)

    per_person_rate, _titles = _rates(engagement) if show_amounts else ({}, {})
    by_person = []
    consumed_amount: Decimal | None = Decimal(0) if show_amounts else None
    person_rows = (
        entries.values("person_id", "person__full_name", "person__email")
        .annotate(m=Sum("minutes"))
        .order_by("-m")
    )
    for row in person_rows:
        amount = None
        if show_amounts and row["person_id"] in per_person_rate:
            amount = (
                per_person_rate[row["person_id"]] * Decimal(row["m"]) / workspace.minutes_per_day
            ).quantize(Decimal("0.01"))
            consumed_amount = (consumed_amount or Decimal(0)) + amount
        label = row["person__full_name"] or row["person__email"]
        by_person.append(Breakdown(label, int(row["m"]), amount))
    by_activity = [
        Breakdown(name or "—", int(m))
        for name, m in entries.values_list("activity__name")
        .annotate(m=Sum("minutes"))
        .order_by("-m")
    ]

    # Linear projection from the recent pace, beside the team's own estimate.
    today = timezone.localdate()
    since = today - timedelta(weeks=PACE_WEEKS)
    recent = entries.filter(date__gt=since, date__lte=today).aggregate(
        m=Coalesce(Sum("minutes"), 0)
    )
    pace = int(recent["m"]) // PACE_WEEKS
    projection = None
    if engagement.end_date is not None and engagement.status in (
        EngagementStatus.ACTIVE,
        EngagementStatus.PAUSED,
    ):
        weeks_left = max(0, (engagement.end_date - today).days) / 7
        projection = consumed + int(pace * weeks_left)
    forecast = consumed + estimate.remaining_minutes if estimate is not None else None

    return ConsumptionSummary(
        engagement=engagement,
        show_amounts=show_amounts,
        show_internal=access.can_see_internal_notes(fetched_by),
        minutes_per_day=workspace.minutes_per_day,
        budget=budget,
        budget_minutes=budget_minutes,
        consumed_minutes=consumed,
        consumed_amount=consumed_amount,
        estimate=estimate,
        forecast_minutes=forecast,
        projection_minutes=projection,
        pace_minutes_per_week=pace,
        late_entries=int(totals["late"]),
        entry_count=int(totals["count"]),
        weeks=weeks,
        by_person=by_person,
        by_activity=by_activity,
    )


def entry_list(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[TimeEntry]:
    """The engagement's entries, newest first, with what a row shows (one query a page)."""
    access.get_engagement(fetched_by, engagement.pk)
    return (
        TimeEntry.objects.filter(engagement=engagement)
        .select_related("person", "activity")
        .order_by("-date", "-id")
    )


def mark_corrected(entries: list[TimeEntry]) -> None:
    """Set `is_corrected` on a page of entries, in one query (not a GROUP BY over all)."""
    corrected = set(
        TimeEntry.objects.filter(corrects_id__in=[e.pk for e in entries]).values_list(
            "corrects_id", flat=True
        )
    )
    for entry in entries:
        entry.is_corrected = entry.pk in corrected  # type: ignore[attr-defined]


def budget_history(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[BudgetRevision]:
    access.get_engagement(fetched_by, engagement.pk)
    return engagement.budget_revisions.select_related("changed_by").order_by("-created_at", "-id")


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
    """Share of closed engagements delivered under budget, and by how much (two queries)."""
    engagements = Engagement.objects.visible_to(fetched_by).filter(status=EngagementStatus.CLOSED)
    consumed = dict(engagements.values_list("id").annotate(m=Coalesce(Sum("entries__minutes"), 0)))
    latest_days: dict[int, Decimal] = {}
    for engagement_id, days in (
        BudgetRevision.objects.filter(engagement__in=engagements, days__isnull=False)
        .order_by("engagement_id", "created_at", "id")
        .values_list("engagement_id", "days")
    ):
        latest_days[engagement_id] = days  # the last one per engagement wins
    minutes_per_day = fetched_by.workspace.minutes_per_day
    margins = []
    for engagement_id, days in latest_days.items():
        budget = days * minutes_per_day
        used = Decimal(consumed.get(engagement_id, 0))
        if used < budget:
            margins.append((budget - used) / budget * 100)
    average = (sum(margins) / len(margins)).quantize(Decimal("0.1")) if margins else None
    return PortfolioFigure(
        closed=len(consumed),
        with_budget=len(latest_days),
        under_budget=len(margins),
        average_margin_percent=average,
    )
