"""Why an early warning should be open now: the causes, read from trust, its trend and the sources.

Each cause is (kind, direction) -> Cause. A cause is about change, per dimension and direction: a
sharp drop, a slow decline over several windows, a side's silence measured from its own acts,
budget drift from the recent pace, and the facts that need someone now (a commitment or payment
overdue, a problem target missed). services.trust_check_alerts opens and closes the alerts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from itertools import pairwise
from typing import Any

from django.db.models import Count, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from confiance.core.queries import Prepared
from confiance.engagements.models import Engagement
from confiance.trust import indicators
from confiance.trust.facts import model, url
from confiance.trust.models import AlertKind, TrustFact, TrustSettings, TrustSnapshot

DECLINE_WINDOWS = 3
"""A slow decline: the projected trust of a dimension fell over this many weekly windows…"""
DECLINE_TOTAL = 0.05
"""…by at least this much in all (a step below the drop threshold each time)."""
DECLINE_STEP = 0.005
"""…without rising by more than this in any window: a flat week (no new fact, as between two
fortnightly pulse rounds) does not break a decline, a real rise does."""
BUDGET_DRIFT = 1.05
"""The pace projection exceeds the budget by more than 5 %: drift, told before 100 % is reached."""
ESTIMATE_GAP = 1.2
"""The pace projection exceeds the team's own forecast by more than 20 %: the estimate is rosy."""
BUDGET_MIN_SHARE = 0.15
"""No drift alert before this share of the budget is consumed (the pace means little before)."""
PAYMENT_GRACE_DAYS = 7

# The facts that are a side's own acts (updates, meetings, answers), for its silence. Logging
# time is not talking to the client; a fact that only "stood" is not an act of that day.
ACTS: dict[str, tuple[str, ...]] = {
    "provider": (
        "provider_commitment_kept",
        "provider_commitment_kept_late",
        "problem_acknowledged_in_time",
        "problem_update_given",
        "problem_escalated_early",
        "problem_proactive",
        "provider_attendance",
        # Not the provider's own pulse answers: they are about the client, not said to it, and a
        # team that answers its survey while the client hears nothing is silent to the client.
    ),
    "client": (
        "client_commitment_kept",
        "client_commitment_kept_late",
        "client_attendance",
        "client_pulse",
        "payment_on_time",
        "payment_late",
    ),
}
SIDE_DIRECTION = {"provider": indicators.C2P, "client": indicators.P2C}

NEXT_STEPS: dict[str, str] = {
    AlertKind.DROP: gettext_noop(
        "Propose a meeting to take stock with the client (réunion de mise au point) and read the "
        "facts that moved the figure together."
    ),
    AlertKind.DECLINE: gettext_noop(
        "Propose a meeting to take stock with the client before it becomes a complaint; ask what "
        "changed for them."
    ),
    AlertKind.UNCERTAINTY_RISE: gettext_noop(
        "Get in touch: share a progress update or plan a meeting."
    ),
    AlertKind.COMMITMENT_OVERDUE: gettext_noop(
        "Keep the commitment, or propose a renegotiation with a new date and the reason."
    ),
    AlertKind.PROBLEM_UNOWNED: gettext_noop("Name an owner for the problem."),
    AlertKind.PROBLEM_TARGET: gettext_noop(
        "Acknowledge the problem or post a progress update, even a short one."
    ),
    AlertKind.BUDGET_DRIFT: gettext_noop(
        "Tell the client now: share a new forecast and propose a budget revision or a reduced "
        "scope."
    ),
    AlertKind.PAYMENT_OVERDUE: gettext_noop(
        "Remind the client of the payment and ask whether something blocks it."
    ),
}


# Snooze (services.trust_check_alerts): a snoozed alert sends no notice until its snooze ends,
# unless its cause gets worse than when it was snoozed by at least this much, in the kind's own
# measure (alerts.severity): trust 5 points lower, the budget projected 10 points higher, one
# more commitment, payment or problem concerned. Silence has no such measure: its days grow by
# themselves, which is what the person who snoozed it already knew.
WORSE_BY: dict[str, float] = {
    AlertKind.DROP: 5,
    AlertKind.DECLINE: 5,
    AlertKind.BUDGET_DRIFT: 10,
    AlertKind.COMMITMENT_OVERDUE: 1,
    AlertKind.PAYMENT_OVERDUE: 1,
    AlertKind.PROBLEM_UNOWNED: 1,
    AlertKind.PROBLEM_TARGET: 1,
}


def severity(kind: str, params: dict[str, Any] | None) -> float | None:
    """How bad an alert's cause is, from its reason's parameters (higher is worse), or None."""
    params = params or {}
    try:
        if kind in (AlertKind.DROP, AlertKind.DECLINE):
            return -float(params["now"])
        if kind == AlertKind.BUDGET_DRIFT:
            return float(params["projection"])
        if kind == AlertKind.PROBLEM_TARGET:
            return float(params["unacknowledged"]) + float(params["silent"])
        if kind in WORSE_BY:
            return float(params["n"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def got_worse(kind: str, then: float | None, params: dict[str, Any] | None) -> bool:
    """The cause is now worse than `then` (its severity when snoozed) by WORSE_BY[kind] or more."""
    now = severity(kind, params)
    return then is not None and now is not None and now - then >= WORSE_BY.get(kind, math.inf)


@dataclass
class Cause:
    reason: str  # an English message id (gettext_noop), formatted with params when shown
    params: dict[str, Any] = field(default_factory=dict)
    link: str = ""
    # A cause whose identity changes (a new budget revision) closes the open alert and opens a
    # new one: the alert is re-armed.
    identity: str = ""


Causes = dict[tuple[str, str], Cause]


def _url(name: str, engagement: Engagement, **extra: Any) -> str:
    return url(name, engagement, **extra)


# The alert check runs for every engagement at every refresh: its fixed-shape reads are compiled
# once per process (core.queries.Prepared); building them cost more than running them.


@cache
def _snapshots_query() -> Prepared:
    """The projected values of the days in [horizon, today), by day."""
    return Prepared(
        lambda engagement, horizon, today: (
            TrustSnapshot.objects.filter(engagement_id=engagement, day__gte=horizon, day__lt=today)
            .order_by("day")
            .values_list("direction", "dimension", "day", "projected")
        ),
        engagement=int,
        horizon=date,
        today=date,
    )


@cache
def _last_acts_query() -> Prepared:
    """Each side's last own act (ACTS): one row, or none without any fact."""
    return Prepared(
        lambda engagement: (
            TrustFact.objects.filter(engagement_id=engagement)
            .filter(Q(positive__gt=0) | Q(indicator__endswith="_kept_late"))
            .exclude(source_type__endswith=".stood")
            .order_by()
            .values("engagement_id")
            .annotate(
                **{side: Max("at", filter=Q(indicator__in=acts)) for side, acts in ACTS.items()}
            )
            .values_list(*ACTS)
        ),
        engagement=int,
    )


@cache
def _budget_queries() -> dict[str, Prepared]:
    """The last budget revision (id, days), the minutes consumed in all and since `pace_from`,
    and the team's last estimate of what remains (where the app records it)."""
    revisions = model("consumption", "BudgetRevision")
    entries = model("consumption", "TimeEntry")
    queries = {
        "revision": Prepared(
            lambda engagement: (
                revisions.objects.filter(engagement_id=engagement)
                .order_by("-created_at", "-id")
                .values_list("pk", "days")[:1]
            ),
            engagement=int,
        ),
        "sums": Prepared(
            lambda engagement, pace_from, today: (
                entries.objects.filter(engagement_id=engagement)
                .order_by()
                .values("engagement_id")
                .annotate(
                    consumed=Sum("minutes"),
                    recent=Sum("minutes", filter=Q(date__gt=pace_from, date__lte=today)),
                )
                .values_list("consumed", "recent")
            ),
            engagement=int,
            pace_from=date,
            today=date,
        ),
    }
    estimates = model("consumption", "RemainingEstimate")
    if estimates is not None:
        queries["estimate"] = Prepared(
            lambda engagement: (
                estimates.objects.filter(engagement_id=engagement)
                .order_by("-created_at", "-id")
                .values_list("remaining_minutes")[:1]
            ),
            engagement=int,
        )
    return queries


@cache
def _overdue_commitments_query() -> Prepared:
    """How many open commitments of each side are past their due date: one row, or none."""
    commitment = model("followup", "Commitment")
    return Prepared(
        lambda engagement, today: (
            commitment.objects.filter(
                engagement_id=engagement, status__in=("open", "renegotiated"), due_date__lt=today
            )
            .order_by()
            .values("engagement_id")
            .annotate(
                provider=Count("pk", filter=Q(side="provider")),
                client=Count("pk", filter=Q(side="client")),
            )
            .values_list("provider", "client")
        ),
        engagement=int,
        today=date,
    )


@cache
def _unpaid_query() -> Prepared:
    """The due dates of the unpaid payments due before `due_before`, oldest first."""
    payment = model("followup", "Payment")
    return Prepared(
        lambda engagement, due_before: (
            payment.objects.filter(
                engagement_id=engagement, paid_date__isnull=True, due_date__lt=due_before
            )
            .order_by("due_date")
            .values_list("due_date")
        ),
        engagement=int,
        due_before=date,
    )


@cache
def _breached_query() -> Prepared:
    """One open problem with a missed target, if any."""
    problem = model("problems", "Problem")
    return Prepared(
        lambda engagement: problem.objects.filter(
            engagement_id=engagement,
            resolved_at__isnull=True,
            closed_at__isnull=True,
            breaches__isnull=False,
        ).values_list("pk")[:1],
        engagement=int,
    )


def _trend_causes(
    engagement: Engagement,
    opinions: dict[tuple[str, str], Any],
    now: datetime,
    threshold: float,
    window_days: int,
    link: str,
    causes: Causes,
) -> None:
    """A sharp drop over the window, or a slow decline over DECLINE_WINDOWS weekly windows, of any
    dimension (or the overall figure) of a direction: the first that says it, per direction."""
    today = timezone.localdate(now)
    horizon = today - timedelta(days=max(window_days, 7 * DECLINE_WINDOWS) + 7)
    history: dict[tuple[str, str], list[tuple[Any, float]]] = {}
    for direction, dimension, day, projected in _snapshots_query().rows(
        engagement=engagement.pk, horizon=horizon, today=today
    ):
        history.setdefault((direction, dimension), []).append((day, projected))

    def at_or_before(points: list[tuple[Any, float]], day: Any) -> float | None:
        found = None
        for point_day, projected in points:
            if point_day > day:
                break
            found = projected
        return found

    for (direction, dimension), points in history.items():
        opinion = opinions.get((direction, dimension))
        if opinion is None:
            continue
        current = opinion.projected()
        before = at_or_before(points, today - timedelta(days=window_days))
        if before is not None and before - current > threshold:
            causes.setdefault(
                (AlertKind.DROP, direction),
                Cause(
                    gettext_noop(
                        "%(dimension)s fell from %(before)s %% to %(now)s %% in %(days)s days."
                    ),
                    {
                        "dimension": dimension,
                        "before": round(before * 100),
                        "now": round(current * 100),
                        "days": window_days,
                    },
                    link,
                ),
            )
            continue
        samples = [at_or_before(points, today - timedelta(days=7 * k)) for k in range(1, 4)]
        series = [s for s in reversed(samples) if s is not None] + [current]
        steady = all(earlier - later >= -DECLINE_STEP for earlier, later in pairwise(series))
        if (
            len(series) == DECLINE_WINDOWS + 1
            and steady
            and series[0] - series[-1] >= DECLINE_TOTAL
        ):
            causes.setdefault(
                (AlertKind.DECLINE, direction),
                Cause(
                    gettext_noop(
                        "%(dimension)s has declined for %(weeks)s weeks in a row, from "
                        "%(before)s %% to %(now)s %%."
                    ),
                    {
                        "dimension": dimension,
                        "weeks": DECLINE_WINDOWS,
                        "before": round(series[0] * 100),
                        "now": round(current * 100),
                    },
                    link,
                ),
            )


def _silence_causes(
    engagement: Engagement, now: datetime, silence_days: int, link: str, causes: Causes
) -> None:
    """Each side's last own act (update, meeting, answer); silent past `silence_days`."""
    found = _last_acts_query().rows(engagement=engagement.pk)
    lasts = dict(zip(ACTS, found[0], strict=True)) if found else {}
    for side in ACTS:
        since = lasts.get(side) or engagement.created_at
        if now - since > timedelta(days=silence_days):
            causes[(AlertKind.UNCERTAINTY_RISE, SIDE_DIRECTION[side])] = Cause(
                gettext_noop(
                    "Nothing heard from the provider side for %(days)s days (updates, meetings, "
                    "answers)."
                )
                if side == "provider"
                else gettext_noop(
                    "Nothing heard from the client side for %(days)s days (meetings, answers, "
                    "commitments, payments)."
                ),
                {"days": (now - since).days},
                link,
            )


def _budget_causes(engagement: Engagement, now: datetime, causes: Causes) -> None:
    """Drift from the recent pace (and the gap with the team's estimate), before 100 %."""
    revisions = model("consumption", "BudgetRevision")
    entries = model("consumption", "TimeEntry")
    if revisions is None or entries is None or engagement.end_date is None:
        return
    from confiance.consumption.selectors import PACE_WEEKS

    queries = _budget_queries()
    last = queries["revision"].rows(engagement=engagement.pk)
    if not last or last[0][1] is None:
        return
    revision_id, days = last[0]
    budget = int(days * engagement.workspace.minutes_per_day)
    today = timezone.localdate(now)
    sums = queries["sums"].rows(
        engagement=engagement.pk, pace_from=today - timedelta(weeks=PACE_WEEKS), today=today
    )
    consumed, recent = sums[0] if sums else (None, None)
    consumed = consumed or 0
    if not budget or consumed >= budget or consumed < budget * BUDGET_MIN_SHARE:
        return  # at 100 % the budget notice has spoken; too early, the pace says little
    recent = recent or 0
    pace = recent / PACE_WEEKS
    weeks_left = max(0, (engagement.end_date - today).days) / 7
    projection = consumed + pace * weeks_left
    estimate = queries["estimate"].rows(engagement=engagement.pk) if "estimate" in queries else []
    forecast = consumed + estimate[0][0] if estimate else None
    if projection <= budget * BUDGET_DRIFT:
        return
    params = {
        "projection": round(100 * projection / budget),
        "consumed": round(100 * consumed / budget),
    }
    if forecast is not None and projection > forecast * ESTIMATE_GAP:
        reason = gettext_noop(
            "At the recent pace the budget ends at %(projection)s %% (%(consumed)s %% consumed), "
            "while the team's estimate says %(forecast)s %%: the estimate looks optimistic."
        )
        params["forecast"] = round(100 * forecast / budget)
    else:
        reason = gettext_noop(
            "At the recent pace the budget ends at %(projection)s %% (%(consumed)s %% consumed)."
        )
    causes[(AlertKind.BUDGET_DRIFT, indicators.C2P)] = Cause(
        reason, params, _url("consumption", engagement), identity=f"revision:{revision_id}"
    )


def _followup_causes(engagement: Engagement, now: datetime, causes: Causes) -> None:
    commitment = model("followup", "Commitment")
    payment = model("followup", "Payment")
    today = timezone.localdate(now)
    if commitment is not None:
        followup = _url("followup", engagement)
        found = _overdue_commitments_query().rows(engagement=engagement.pk, today=today)
        counts = dict(zip(("provider", "client"), found[0], strict=True)) if found else {}
        for side, direction in (("provider", indicators.C2P), ("client", indicators.P2C)):
            overdue = counts.get(side, 0)
            if overdue:
                causes[(AlertKind.COMMITMENT_OVERDUE, direction)] = Cause(
                    gettext_noop("%(n)s commitment(s) of ours past their due date.")
                    if side == "provider"
                    else gettext_noop("%(n)s commitment(s) of the client past their due date."),
                    {"n": overdue},
                    followup,
                )
    if payment is not None:
        unpaid = [
            due
            for (due,) in _unpaid_query().rows(
                engagement=engagement.pk,
                due_before=today - timedelta(days=PAYMENT_GRACE_DAYS - 1),
            )
        ]
        if unpaid:
            causes[(AlertKind.PAYMENT_OVERDUE, indicators.P2C)] = Cause(
                gettext_noop(
                    "%(n)s payment(s) unpaid past their due date, the oldest for %(days)s days."
                ),
                {"n": len(unpaid), "days": (today - unpaid[0]).days},
                _url("followup", engagement),
            )


def _problem_causes(engagement: Engagement, causes: Causes) -> None:
    problem = model("problems", "Problem")
    breach = model("problems", "ProblemBreach")
    if problem is None or breach is None:
        return
    open_problems = problem.objects.filter(
        engagement=engagement, resolved_at__isnull=True, closed_at__isnull=True
    )
    if not _breached_query().rows(engagement=engagement.pk):
        return  # every cause below is an open problem with a missed target
    link = _url("problem-list", engagement)
    unowned = open_problems.filter(owner__isnull=True, breaches__kind="owner").distinct().count()
    if unowned:
        causes[(AlertKind.PROBLEM_UNOWNED, indicators.C2P)] = Cause(
            gettext_noop("%(n)s problem(s) without an owner past the target time."),
            {"n": unowned},
            link,
        )
    unacknowledged = (
        open_problems.filter(acknowledged_at__isnull=True, breaches__kind="acknowledge")
        .distinct()
        .count()
    )
    # An update target missed still holds while no update came after the breach.
    silent = 0
    for last_update, breached in (
        open_problems.filter(breaches__kind="update")
        .annotate(breached=Max("breaches__detected_at"))
        .values_list("last_update_at", "breached")
    ):
        if last_update is None or last_update < breached:
            silent += 1
    if unacknowledged or silent:
        causes[(AlertKind.PROBLEM_TARGET, indicators.C2P)] = Cause(
            gettext_noop(
                "Problem targets missed: %(unacknowledged)s not acknowledged, %(silent)s without "
                "the progress update due."
            ),
            {"unacknowledged": unacknowledged, "silent": silent},
            link,
        )


def causes_of(
    engagement: Engagement,
    now: datetime,
    settings: TrustSettings | None = None,
    opinions: dict[tuple[str, str], Any] | None = None,
) -> Causes:
    """The alerts whose cause holds now, each with its reason, link and identity (`opinions`:
    the engagement's opinions as of `now`, when the caller read them already)."""
    from confiance.trust.services import trust_opinions_now, trust_settings_for

    settings = settings or trust_settings_for(engagement.workspace_id)
    if opinions is None:
        opinions = trust_opinions_now(engagement=engagement, settings=settings, now=now)
    link = _url("trust", engagement)
    causes: Causes = {}
    _trend_causes(
        engagement,
        opinions,
        now,
        settings.drop_threshold,
        settings.drop_window_days,
        link,
        causes,
    )
    _silence_causes(engagement, now, settings.silence_days, link, causes)
    _budget_causes(engagement, now, causes)
    _followup_causes(engagement, now, causes)
    _problem_causes(engagement, causes)
    return causes


def alert_reason(reason: str, params: dict[str, Any] | None) -> str:
    """An alert's reason in the reader's language (a dimension named by its label)."""
    from confiance.trust.facts import render_label

    shown = dict(params or {})
    if shown.get("dimension") in indicators.DIMENSION_LABELS:
        shown["dimension"] = str(indicators.DIMENSION_LABELS[shown["dimension"]])
    return render_label(reason, shown)


def next_step(kind: str) -> str:
    """The step proposed to whoever should act, in the reader's language."""
    from django.utils.translation import gettext

    step = NEXT_STEPS.get(kind)
    return gettext(step) if step else ""
