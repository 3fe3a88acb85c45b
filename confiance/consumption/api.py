"""API of visible consumption: time entries (log, correct, list), budget, estimates, activities.

Same selectors, services and access policy as the consumption page. Internal notes and amounts
appear only for those who may see them there.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor, caller, engagement_for, person, require
from confiance.consumption import selectors, services
from confiance.consumption.models import Activity, BudgetRevision, EntryKind, TimeEntry
from confiance.core.models import Membership

router = Router(tags=["consumption"])


def _viewer(context: dict[str, Any] | None) -> Membership | None:
    return context["request"].auth if context else None  # type: ignore[no-any-return]


class EntryOut(Schema):
    id: int
    person_id: int
    person_name: str
    date: date
    minutes: int
    activity_id: int | None
    activity: str | None
    shared_note: str
    internal_note: str | None = Field(None, description="Only for the provider's people.")
    kind: EntryKind
    corrects_id: int | None
    correction_reason: str
    logged_at: datetime
    log_delay_days: int
    ledger_index: int | None

    @staticmethod
    def resolve_person_name(obj: TimeEntry) -> str:
        return obj.person.get_full_name()

    @staticmethod
    def resolve_activity(obj: TimeEntry) -> str | None:
        return obj.activity.name if obj.activity else None

    @staticmethod
    def resolve_logged_at(obj: TimeEntry) -> datetime:
        return obj.created_at

    @staticmethod
    def resolve_internal_note(obj: TimeEntry, context: dict[str, Any]) -> str | None:
        if not access.can_see_internal_notes(_viewer(context)):
            return None
        return obj.internal_note


class EntryFilters(Schema):
    person_id: int | None = None
    activity_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    kind: EntryKind | None = None


class EntryIn(Schema):
    date: date
    minutes: int = Field(..., description="Duration in whole minutes.")
    person_id: int | None = Field(None, description="Default: yourself.")
    activity_id: int | None = None
    shared_note: str = ""
    internal_note: str = ""


class CorrectionIn(Schema):
    reason: str = Field(..., description="Why: the client sees it.")
    withdraw: bool = Field(False, description="Reverse the entry without a replacement.")
    replacement: EntryIn | None = None


def _input(request: HttpRequest, engagement_id: int, data: EntryIn) -> services.EntryInput:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    activity = None
    if data.activity_id is not None:
        activity = engagement.activities.filter(pk=data.activity_id).first()
        if activity is None:
            raise ValidationError({"activity_id": _("No such activity on this engagement.")})
    return services.EntryInput(
        person=person(membership, data.person_id, "person_id") or membership.user,
        date=data.date,
        minutes=data.minutes,
        activity=activity,
        shared_note=data.shared_note,
        internal_note=data.internal_note,
        source="api",
    )


@router.get(
    "/{engagement_id}/entries",
    response=list[EntryOut],
    summary="Time entries, newest logged first, with filters",
)
@paginate(Cursor)
def list_entries(
    request: HttpRequest, engagement_id: int, filters: Query[EntryFilters]
) -> QuerySet[TimeEntry]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    entries = selectors.entry_list(fetched_by=membership, engagement=engagement)
    if filters.person_id is not None:
        entries = entries.filter(person_id=filters.person_id)
    if filters.activity_id is not None:
        entries = entries.filter(activity_id=filters.activity_id)
    if filters.date_from is not None:
        entries = entries.filter(date__gte=filters.date_from)
    if filters.date_to is not None:
        entries = entries.filter(date__lte=filters.date_to)
    if filters.kind is not None:
        entries = entries.filter(kind=filters.kind)
    if not access.can_see_internal_notes(membership):
        entries = entries.defer("internal_note")
    return entries  # type: ignore[no-any-return]


@router.get("/{engagement_id}/entries/{entry_id}", response=EntryOut, summary="One time entry")
def get_entry(request: HttpRequest, engagement_id: int, entry_id: int) -> TimeEntry:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    return selectors.entry_list(fetched_by=membership, engagement=engagement).get(pk=entry_id)


@router.post(
    "/{engagement_id}/entries",
    response={201: EntryOut},
    summary="Log time (owner and consultants; for others: the owner and the lead)",
)
def log_entry(request: HttpRequest, engagement_id: int, data: EntryIn) -> tuple[int, TimeEntry]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_log_time(membership, engagement))
    entry = services.time_entry_log(
        membership=membership,
        engagement=engagement,
        item=_input(request, engagement_id, data),
    )
    return 201, entry


@router.post(
    "/{engagement_id}/entries/{entry_id}/corrections",
    response={201: list[EntryOut]},
    summary="Correct an entry: a reversal and (unless withdrawn) a replacement are appended",
)
def correct_entry(
    request: HttpRequest, engagement_id: int, entry_id: int, data: CorrectionIn
) -> tuple[int, list[TimeEntry]]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_log_time(membership, engagement))
    entry = TimeEntry.objects.select_related("engagement").get(engagement=engagement, pk=entry_id)
    replacement = None
    if not data.withdraw:
        if data.replacement is None:
            raise ValidationError(
                {"replacement": _("Give the corrected entry, or withdraw the entry.")}
            )
        replacement = _input(request, engagement_id, data.replacement)
    created = services.time_entry_correct(
        membership=membership, entry=entry, reason=data.reason, replacement=replacement
    )
    return 201, created


# Consumption summary, budget, estimate, activities ----------------------------------------


class BreakdownOut(Schema):
    label: str
    minutes: int
    amount: Decimal | None = None


class ConsumptionOut(Schema):
    budget_minutes: int | None
    budget_amount: Decimal | None = Field(None, description="When you may see amounts.")
    consumed_minutes: int
    consumed_amount: Decimal | None = Field(None, description="When you may see amounts.")
    percent: int | None
    forecast_minutes: int | None = Field(None, description="Consumed + the team's estimate.")
    projection_minutes: int | None = Field(None, description="Consumed + the recent pace.")
    pace_minutes_per_week: int
    status: str = Field(
        ...,
        description="under, on, at_risk (the forecast exceeds the budget), over (consumed "
        "exceeds it), or unknown without a budget in days",
    )
    forecast_basis: str = Field(
        ..., description="What drives the status: estimate, pace, or consumed"
    )
    figures_size: int = Field(..., description="The ledger's tree size the figures were folded at")
    entry_count: int
    late_entries: int
    minutes_per_day: int
    by_person: list[BreakdownOut]
    by_activity: list[BreakdownOut]


@router.get(
    "/{engagement_id}/consumption",
    response=ConsumptionOut,
    summary="Consumed against the budget, forecast and breakdowns: the page's figures",
)
def consumption(request: HttpRequest, engagement_id: int) -> ConsumptionOut:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    s = selectors.consumption_summary(fetched_by=membership, engagement=engagement)
    amounts = s.show_amounts
    return ConsumptionOut(
        budget_minutes=s.budget_minutes,
        budget_amount=s.budget_amount if amounts else None,
        consumed_minutes=s.consumed_minutes,
        consumed_amount=s.consumed_amount if amounts else None,
        percent=s.percent,
        forecast_minutes=s.forecast_minutes,
        projection_minutes=s.projection_minutes,
        pace_minutes_per_week=s.pace_minutes_per_week,
        status=s.status,
        forecast_basis=s.forecast_basis,
        figures_size=s.figures_size,
        entry_count=s.entry_count,
        late_entries=s.late_entries,
        minutes_per_day=s.minutes_per_day,
        by_person=[
            BreakdownOut(label=b.label, minutes=b.minutes, amount=b.amount if amounts else None)
            for b in s.by_person
        ],
        by_activity=[
            BreakdownOut(label=b.label, minutes=b.minutes, amount=b.amount if amounts else None)
            for b in s.by_activity
        ],
    )


class BudgetOut(Schema):
    id: int
    days: Decimal | None
    amount: Decimal | None = Field(None, description="When you may see amounts.")
    reason: str
    changed_by: str
    created_at: datetime
    ledger_index: int | None

    @staticmethod
    def resolve_changed_by(obj: BudgetRevision) -> str:
        return obj.changed_by.get_full_name()

    @staticmethod
    def resolve_amount(obj: BudgetRevision, context: dict[str, Any]) -> Decimal | None:
        return obj.amount if access.can_see_amounts(_viewer(context)) else None


class BudgetIn(Schema):
    days: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    reason: str


@router.get(
    "/{engagement_id}/budget-revisions",
    response=list[BudgetOut],
    summary="Budget revisions, newest first: who changed it, when and why",
)
@paginate(Cursor)
def list_budget_revisions(request: HttpRequest, engagement_id: int) -> QuerySet[BudgetRevision]:
    engagement = engagement_for(request, engagement_id)
    return selectors.budget_history(fetched_by=caller(request), engagement=engagement)


@router.post(
    "/{engagement_id}/budget-revisions",
    response={201: BudgetOut},
    summary="Revise the budget (owner, finance, the engagement's lead)",
)
def revise_budget(
    request: HttpRequest, engagement_id: int, data: BudgetIn
) -> tuple[int, BudgetRevision]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_budget(membership, engagement))
    revision = services.budget_revise(
        membership=membership,
        engagement=engagement,
        days=data.days,
        amount=data.amount,
        reason=data.reason,
    )
    return 201, revision


class EstimateIn(Schema):
    remaining_minutes: int = Field(..., ge=0, le=10_000_000)
    note: str = ""


class EstimateOut(Schema):
    id: int
    remaining_minutes: int
    note: str
    created_at: datetime


@router.post(
    "/{engagement_id}/estimates",
    response={201: EstimateOut},
    summary="Record the team's estimate of the work remaining (owner and consultants)",
)
def set_estimate(request: HttpRequest, engagement_id: int, data: EstimateIn) -> tuple[int, Any]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_log_time(membership, engagement))
    estimate = services.remaining_estimate_set(
        membership=membership,
        engagement=engagement,
        remaining_minutes=data.remaining_minutes,
        note=data.note,
    )
    return 201, estimate


class ActivityOut(Schema):
    id: int
    name: str
    is_active: bool


class ActivityIn(Schema):
    name: str = Field(..., max_length=80)


@router.get("/{engagement_id}/activities", response=list[ActivityOut], summary="Activities in use")
def list_activities(request: HttpRequest, engagement_id: int) -> QuerySet[Activity]:
    engagement = engagement_for(request, engagement_id)
    return selectors.activity_list(engagement=engagement)


@router.post(
    "/{engagement_id}/activities",
    response={201: ActivityOut},
    summary="Add an activity (owner, finance, the engagement's lead)",
)
def create_activity(
    request: HttpRequest, engagement_id: int, data: ActivityIn
) -> tuple[int, Activity]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_budget(membership, engagement))
    return 201, services.activity_create(
        membership=membership, engagement=engagement, name=data.name
    )
