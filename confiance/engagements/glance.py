"""Where are we, for many engagements at once: consumed, forecast, trust, problems, next due.

One selector for the engagement list, the engagement page and a client's own page. The number of
queries is fixed whatever the number of engagements (one per kind of figure), and every figure
comes from the same code as the page that details it: the consumption status from
`ConsumptionSummary.status`, trust from the summaries the trust portfolio ranks by
(`trust.selectors.summaries_weighed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from confiance import access
from confiance.consumption.models import ConsumptionRollup, ConsumptionTotals
from confiance.consumption.selectors import PACE_WEEKS, ConsumptionSummary
from confiance.core.models import Membership, User
from confiance.core.queries import PreparedIn, build, columns
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.engagements.selectors import TableRow
from confiance.followup.models import LIVE_STATUSES, Commitment
from confiance.problems.models import OPEN_STATUSES, Problem
from confiance.trust.selectors import Figure, summaries_weighed, this_minute


@dataclass
class TrustBand:
    """Client→provider trust: projected probability and its band, in percent."""

    projected: int
    low: int
    high: int
    uncertainty: int

    @property
    def level(self) -> str:
        """high, mid, low or unknown: one colour each, the same as the trust portfolio's."""
        if self.uncertainty > 80:
            return "unknown"
        if self.projected >= 75:
            return "high"
        if self.projected >= 60:
            return "mid"
        return "low"


@dataclass
class Glance:
    engagement: Engagement | TableRow  # a row on the lists, the engagement on its page
    summary: ConsumptionSummary
    trust: TrustBand | None
    open_problems: int
    next_commitment: Commitment | None
    overdue_commitments: int

    @property
    def percent(self) -> int | None:
        return self.summary.percent

    @property
    def status(self) -> str:
        """under, on, at_risk (forecast over budget), over budget or unknown (no budget)."""
        return self.summary.status


class _Totals(NamedTuple):
    """What the glance reads of an engagement's `ConsumptionTotals`: not its rates, titles
    and activities (three JSON documents a row, decoded for nothing)."""

    engagement_id: int
    consumed_minutes: int
    minutes_per_day: int | None
    budget_days: Decimal | None
    estimate_minutes: int | None
    last_fact: int | None


# The glance's queries, compiled once per process and page length (core.queries): compiling
# them cost Django more than running them, on every list page.
_TOTALS = PreparedIn(
    lambda ids: ConsumptionTotals.objects.filter(engagement_id__in=ids).values_list(
        *_Totals._fields
    ),
    "ids",
)
_RECENT = PreparedIn(
    lambda ids, since, until: (
        ConsumptionRollup.objects.filter(
            engagement_id__in=ids, dimension="day", key__gt=since, key__lte=until
        )
        .values("engagement_id")
        .annotate(m=Sum("minutes"))
        .values_list("engagement_id", "m")
    ),
    "ids",
    since=str,
    until=str,
)
_PROBLEMS = PreparedIn(
    lambda ids: (
        Problem.objects.filter(engagement_id__in=ids, status__in=OPEN_STATUSES)
        .values("engagement_id")
        .annotate(n=Count("id"))
        .values_list("engagement_id", "n")
    ),
    "ids",
)


def _next_due(ids: list[int], today: date) -> QuerySet[Commitment]:
    """Each engagement's next live commitment due, its owner, and its overdue count."""
    first_due = (
        Commitment.objects.filter(engagement_id=OuterRef("engagement_id"), status__in=LIVE_STATUSES)
        .order_by("due_date", "id")
        .values("pk")[:1]
    )
    # An engagement with an overdue commitment has a live one, hence a next one due: the
    # overdue count rides on that row (one query for both).
    overdue_count = (
        Commitment.objects.filter(
            engagement_id=OuterRef("engagement_id"), status__in=LIVE_STATUSES, due_date__lt=today
        )
        .order_by()
        .values("engagement_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Commitment.objects.filter(engagement_id__in=ids, pk=Subquery(first_due))
        .annotate(overdue=Subquery(overdue_count))
        .values_list(*columns(Commitment), *columns(User, "owner__"), "overdue")
    )


_NEXT_DUE = PreparedIn(_next_due, "ids", today=date)


def _band(figure: Figure) -> TrustBand:
    """The band of a figure as shown (its percentages, computed once: the portfolio's figures
    of an engagement are kept for their minute, `Weighed.figures`)."""
    return TrustBand(
        projected=figure.projected,
        low=figure.low,
        high=figure.high,
        uncertainty=figure.uncertainty,
    )


def glance(
    *,
    fetched_by: Membership,
    engagements: Sequence[Engagement | TableRow],
    today: date | None = None,
) -> dict[int, Glance]:
    """The at-a-glance figures of engagements the viewer already may see, by engagement id
    (engagements, or the rows of `engagements.selectors.engagement_table_page`)."""
    engagements = [e for e in engagements if e.workspace_id == fetched_by.workspace_id]
    if not engagements:
        return {}
    today = today or timezone.localdate()
    ids = [e.pk for e in engagements]
    workspace = fetched_by.workspace

    # Consumption from the rollups of the ledgered facts, as the consumption page reads it:
    # one row of totals per engagement and the last weeks' day cells, never the entries.
    since = (today - timedelta(weeks=PACE_WEEKS)).isoformat()
    totals = {t.engagement_id: t for t in map(_Totals._make, _TOTALS.rows(ids=ids))}
    recent_minutes = dict(_RECENT.rows(ids=ids, since=since, until=today.isoformat()))

    # Problems and commitments: the client side sees them all (none is internal).
    problems = dict(_PROBLEMS.rows(ids=ids))
    next_due = {}
    for row in _NEXT_DUE.rows(ids=ids, today=today):
        commitment, at = build(Commitment, row)
        owner, at = build(User, row, at)
        assert commitment is not None and owner is not None
        commitment.owner = owner
        commitment.overdue = row[at]  # type: ignore[attr-defined]
        next_due[commitment.engagement_id] = commitment
    overdue = {pk: c.overdue or 0 for pk, c in next_due.items()}  # type: ignore[attr-defined]

    bands: dict[int, TrustBand] = {}
    directions_seen = {e.pk: access.trust_directions(fetched_by, e) for e in engagements}
    trusted = [e for e in engagements if "c2p" in directions_seen[e.pk]]
    if trusted:
        # From the trust summaries, weighed at the start of the minute: the trust portfolio's
        # figures at that instant, and what either kept for it (trust.selectors).
        weighed = summaries_weighed(
            trusted, workspace_id=fetched_by.workspace_id, now=this_minute()
        )
        bands = {pk: _band(figures.figures[0]) for pk, figures in weighed.items()}

    show_amounts = access.can_see_amounts(fetched_by)
    show_internal = access.can_see_internal_notes(fetched_by)
    result = {}
    for engagement in engagements:
        t = totals.get(engagement.pk)
        total = int(t.consumed_minutes) if t else 0
        recent = int(recent_minutes.get(engagement.pk) or 0)
        minutes_per_day = (t.minutes_per_day if t else None) or workspace.minutes_per_day
        budget_minutes = (
            int(t.budget_days * minutes_per_day) if t and t.budget_days is not None else None
        )
        pace = recent // PACE_WEEKS
        projection = None
        if engagement.end_date is not None and engagement.status in (
            EngagementStatus.ACTIVE,
            EngagementStatus.PAUSED,
        ):
            weeks_left = max(0, (engagement.end_date - today).days) / 7
            projection = total + int(pace * weeks_left)
        remaining = t.estimate_minutes if t else None
        summary = ConsumptionSummary(
            engagement=engagement,
            show_amounts=show_amounts,
            show_internal=show_internal,
            minutes_per_day=minutes_per_day,
            budget_minutes=budget_minutes,
            budget_amount=None,
            consumed_minutes=total,
            consumed_amount=None,
            estimate_minutes=remaining,
            estimate_at=None,
            forecast_minutes=total + remaining if remaining is not None else None,
            projection_minutes=projection,
            pace_minutes_per_week=pace,
            late_entries=0,
            late_after_days=fetched_by.workspace.late_logging_days,
            entry_count=0,
            figures_size=(t.last_fact + 1) if t and t.last_fact is not None else 0,
            minutes_per_day_ledgered=bool(t and t.minutes_per_day),
        )
        result[engagement.pk] = Glance(
            engagement=engagement,
            summary=summary,
            trust=bands.get(engagement.pk),
            open_problems=problems.get(engagement.pk, 0),
            next_commitment=next_due.get(engagement.pk),
            overdue_commitments=overdue.get(engagement.pk, 0),
        )
    return result
