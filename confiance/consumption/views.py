"""Consumption pages: the engagement's consumption (both sides), its forms, notices, portfolio."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.consumption import exports, selectors, services, tables
from confiance.consumption.forms import (
    ActivityForm,
    BudgetForm,
    CorrectionForm,
    EntryForm,
    EstimateForm,
    RateForm,
)
from confiance.consumption.models import Activity, TimeEntry
from confiance.consumption.rollups import figures_load
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors, model_choice_field, offer_choices
from confiance.core.models import Membership, Notice, Role, User
from confiance.core.queries import Prepared, build_all, columns
from confiance.core.services import notices_mark_read
from confiance.engagements.models import Engagement

ENTRIES_PER_PAGE = 50
LEAVES_PER_REQUEST = 5000


def _team(workspace_id: int) -> QuerySet[User]:
    return User.objects.filter(
        memberships__workspace_id=workspace_id,
        memberships__role__in=[Role.OWNER, Role.MEMBER],
    ).order_by("full_name")


def _people(membership: Membership, engagement: Engagement) -> QuerySet[User]:
    """Whom this person may log time for: themselves, or the whole team for the lead/owner."""
    if access.can_log_time_for_others(membership, engagement):
        return _team(membership.workspace_id)
    return User.objects.filter(pk=membership.user_id)


# The page's entry form offers these on every view: compiled once per process (core.queries).
_TEAM = Prepared(
    lambda workspace_id: _team(workspace_id).values_list(*columns(User)), workspace_id=int
)


def _people_rows(membership: Membership, engagement: Engagement) -> list[User]:
    """`_people`'s rows, in its order."""
    if not access.can_log_time_for_others(membership, engagement):
        return [membership.user]
    return build_all(User, _TEAM.rows(workspace_id=membership.workspace_id))


def _entry_form(
    membership: Membership,
    engagement: Engagement,
    data: Any = None,
    activities: list[Activity] | None = None,
) -> EntryForm:
    """The form to log time; unbound on the page, offered the rows of `activities` (all of the
    engagement's, by name, read already) and of the people it may log for; a submitted one
    checked against their querysets."""
    shown_only = data is None and activities is not None
    form = EntryForm(
        data,
        activities=None if shown_only else selectors.activity_list(engagement=engagement),
        people=None if shown_only else _people(membership, engagement),
        initial={"person": membership.user_id},
        prefix="entry",
    )
    if activities is not None:
        offer_choices(model_choice_field(form, "activity"), [a for a in activities if a.is_active])
        offer_choices(model_choice_field(form, "person"), _people_rows(membership, engagement))
    return form


class _EntryRows:
    """The table's entries as `Paginator` counts and slices them, their queryset built only
    for a page that reads it: the first page of the whole table is read through its prepared
    query (`selectors.entry_first_page`) and counted from the totals, and building the queryset
    cost that page more than reading it."""

    def __init__(self, make: Callable[[], QuerySet[Any]]) -> None:
        self._make = make

    def count(self) -> int:
        return self._make().count()

    def __getitem__(self, rows: slice) -> Iterable[Any]:
        return _EntrySlice(self._make, rows)


class _EntrySlice:
    """A page of `_EntryRows`, read when iterated."""

    def __init__(self, make: Callable[[], QuerySet[Any]], rows: slice) -> None:
        self._make = make
        self._rows = rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._make()[self._rows])


def _page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    # A closed (or stopped) engagement's history is read, not written: no write forms.
    writable = engagement.status in services.LOGGABLE_STATUSES
    can_log = writable and access.can_log_time(membership, engagement)
    can_budget = writable and access.can_manage_budget(membership, engagement)
    figures = figures_load(engagement=engagement)  # once, for the summary and the filters
    people = selectors.people_who_logged(figures)  # for the summary and the filters
    activities = selectors.activities_all(engagement=engagement)  # for the forms' choices
    filter_form = exports.EntryFilterForm(
        request.GET if _filtered(request) else None,
        engagement=engagement,
        figures=figures,
        people=people,
        activities=activities,
    )
    filters = exports.entry_filter(filter_form)
    rows: Any = _EntryRows(  # a sequence as Paginator reads one
        lambda: filters.apply(
            selectors.entry_list(fetched_by=membership, engagement=engagement)
        ).values_list(*selectors.ENTRY_ROW_NAMES)
    )
    paginator: Paginator[Any] = Paginator(rows, ENTRIES_PER_PAGE)
    if not filters.active:
        paginator.count = selectors.entry_row_count(engagement=engagement, figures=figures)
    entries = paginator.get_page(request.GET.get("page"))
    if not filters.active and entries.number == 1:  # through a query compiled once
        entries.object_list = selectors.entry_first_page(
            fetched_by=membership, engagement=engagement, size=ENTRIES_PER_PAGE
        )
    else:
        entries.object_list = selectors.entry_rows_of(list(entries.object_list))
    selectors.mark_corrected(entries.object_list)
    summary = selectors.consumption_summary(
        fetched_by=membership, engagement=engagement, figures=figures, people=people
    )
    context = {
        "engagement": engagement,
        "summary": summary,
        "entries": entries,
        "week_rows": tables.week_rows(summary),
        "entry_rows": tables.entry_rows(
            entries.object_list,
            engagement=engagement,
            workspace_slug=membership.workspace.slug,
            show_internal=summary.show_internal,
            can_log=can_log,
        ),
        "budget_history": selectors.budget_history_last(
            fetched_by=membership, engagement=engagement
        ),
        "can_log": can_log,
        "can_budget": can_budget,
        "can_import": writable and access.can_log_time_for_others(membership, engagement),
        "currency": membership.workspace.currency,
        "filter_form": filter_form,
        "filters": filters,
        "filter_query": _filter_query(request),
        "this_month": timezone.localdate().strftime("%Y-%m"),
        "entry_form": forms.get("entry_form")
        or (_entry_form(membership, engagement, activities=activities) if can_log else None),
        "budget_form": forms.get("budget_form")
        or (BudgetForm(prefix="budget") if can_budget else None),
        "estimate_form": forms.get("estimate_form")
        or (EstimateForm(prefix="estimate") if can_log else None),
        "late_after_days": summary.late_after_days,
        "chart": summary.chart_data(),
    }
    return render(request, "consumption/consumption.html", context, status=status)


@workspace_view()
def consumption(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Consumed vs budget, burn-up, breakdowns, forecast and entries: the same for both sides."""
    engagement = access.get_engagement(membership, pk)
    return _page(request, membership, engagement)


FILTER_FIELDS = ("person", "activity", "start", "end")


def _filtered(request: HttpRequest) -> bool:
    return any(request.GET.get(name) for name in FILTER_FIELDS)


def _filter_query(request: HttpRequest) -> str:
    """The filters of the page as a query string, for the pager and the exports."""
    query = QueryDict(mutable=True)
    for name in FILTER_FIELDS:
        if request.GET.get(name):
            query[name] = request.GET[name]
    return query.urlencode()


def _export_name(engagement: Engagement, extension: str) -> str:
    return f"time-entries-{engagement.pk}-{timezone.localdate().isoformat()}.{extension}"


@workspace_view()
def entries_export(
    request: HttpRequest, membership: Membership, pk: int, extension: str
) -> HttpResponseBase:
    """The filtered time entries as CSV or XLSX, with the columns this reader may see."""
    engagement = access.get_engagement(membership, pk)
    form = exports.EntryFilterForm(request.GET, engagement=engagement)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    header, rows = exports.export_rows(
        fetched_by=membership, engagement=engagement, filters=exports.entry_filter(form)
    )
    name = _export_name(engagement, extension)
    if extension == "csv":
        response = StreamingHttpResponse(
            exports.csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        exports.xlsx_file(_("Time entries"), header, rows),
        as_attachment=True,
        filename=name,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@workspace_view()
def statement(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The monthly consumption statement (PDF) of ?month=YYYY-MM, this month by default."""
    from confiance.consumption.statement_pdf import statement_pdf

    engagement = access.get_engagement(membership, pk)
    text = request.GET.get("month") or timezone.localdate().strftime("%Y-%m")
    try:
        month = datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        return JsonResponse({"error": _("Give the month as YYYY-MM.")}, status=400)
    if not 2000 <= month.year <= 2100:
        return JsonResponse({"error": _("Give the month as YYYY-MM.")}, status=400)
    data = exports.month_statement(fetched_by=membership, engagement=engagement, month=month)
    pdf = statement_pdf(
        data, currency=membership.workspace.currency, provider=membership.workspace.name
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"statement-{engagement.pk}-{month:%Y-%m}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@workspace_view()
def leaves(request: HttpRequest, membership: Membership, pk: int) -> JsonResponse:
    """Ledger leaves [start, end) as stored, for the browser's recomputation of the figures.

    The same leaf data the bundle carries to this reader; at most LEAVES_PER_REQUEST a call.
    """
    engagement = access.get_engagement(membership, pk)
    try:
        start = int(request.GET.get("start", "0"))
        end = int(request.GET.get("end", str(start + LEAVES_PER_REQUEST)))
    except ValueError:
        return JsonResponse({"error": _("start and end are entry indexes.")}, status=400)
    if not 0 <= start <= end or end - start > LEAVES_PER_REQUEST or end > 2**53:
        return JsonResponse(
            {
                "error": _("Ask for at most %(n)d entries from index 0 on.")
                % {"n": LEAVES_PER_REQUEST}
            },
            status=400,
        )
    rows = selectors.ledger_leaves(engagement=engagement, start=start, end=end)
    return JsonResponse({"start": start, "entries": rows})


@require_POST
@workspace_view()
def entry_log(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    if not access.can_log_time(membership, engagement):
        raise Http404
    form = _entry_form(membership, engagement, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.time_entry_log(
                membership=membership,
                engagement=engagement,
                item=services.EntryInput(
                    person=data["person"],
                    date=data["date"],
                    minutes=data["duration"],
                    activity=data["activity"],
                    shared_note=data["shared_note"],
                    internal_note=data["internal_note"],
                ),
            )
        except ValidationError as error:
            _add_entry_errors(form, error)
        else:
            messages.success(request, _("Time logged."))
            return redirect("consumption", ws=membership.workspace.slug, pk=engagement.pk)
    return _page(request, membership, engagement, status=400, entry_form=form)


def _add_entry_errors(form: EntryForm, error: ValidationError) -> None:
    # The service speaks of minutes; the form of a duration.
    if hasattr(error, "error_dict") and "minutes" in error.error_dict:
        error.error_dict["duration"] = error.error_dict.pop("minutes")
    add_service_errors(form, error)


@workspace_view()
def entry_correct(
    request: HttpRequest, membership: Membership, pk: int, entry_id: int
) -> HttpResponse:
    """Correct an entry: a reversal and a replacement are appended; the original stays."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_log_time(membership, engagement):
        raise Http404
    entry = (
        TimeEntry.objects.filter(engagement=engagement, pk=entry_id)
        .select_related("person", "activity")
        .first()
    )
    if entry is None:
        raise Http404
    initial = {
        "date": entry.date,
        "duration": f"{entry.minutes // 60}:{entry.minutes % 60:02d}",
        "activity": entry.activity_id,
        "person": entry.person_id,
        "shared_note": entry.shared_note,
        "internal_note": entry.internal_note,
    }
    form = CorrectionForm(
        request.POST or None,
        activities=selectors.activity_list(engagement=engagement),
        people=_people(membership, engagement) | User.objects.filter(pk=entry.person_id),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        replacement = None
        if not data["withdraw"]:
            replacement = services.EntryInput(
                person=data["person"],
                date=data["date"],
                minutes=data["duration"],
                activity=data["activity"],
                shared_note=data["shared_note"],
                internal_note=data["internal_note"],
            )
        try:
            services.time_entry_correct(
                membership=membership, entry=entry, reason=data["reason"], replacement=replacement
            )
        except ValidationError as error:
            _add_entry_errors(form, error)
        else:
            messages.success(request, _("Entry corrected; the original stays visible."))
            return redirect("consumption", ws=membership.workspace.slug, pk=engagement.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "consumption/entry_correct.html",
        {"engagement": engagement, "entry": entry, "form": form},
        status=status,
    )


@require_POST
@workspace_view()
def budget_revise(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    if not access.can_manage_budget(membership, engagement):
        raise Http404
    form = BudgetForm(request.POST, prefix="budget")
    if form.is_valid():
        try:
            services.budget_revise(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Budget recorded."))
            return redirect("consumption", ws=membership.workspace.slug, pk=engagement.pk)
    return _page(request, membership, engagement, status=400, budget_form=form)


@require_POST
@workspace_view()
def estimate_set(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    if not access.can_log_time(membership, engagement):
        raise Http404
    form = EstimateForm(request.POST, prefix="estimate")
    if form.is_valid():
        try:
            services.remaining_estimate_set(
                membership=membership,
                engagement=engagement,
                remaining_minutes=form.cleaned_data["remaining"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Estimate of the work remaining recorded."))
            return redirect("consumption", ws=membership.workspace.slug, pk=engagement.pk)
    return _page(request, membership, engagement, status=400, estimate_form=form)


@workspace_view()
def settings_page(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Activities and the rate card of an engagement (provider side, budget managers)."""
    engagement = access.get_engagement(membership, pk)
    if not access.can_manage_budget(membership, engagement):
        raise Http404
    people = User.objects.filter(
        memberships__workspace_id=membership.workspace_id,
        memberships__role__in=[Role.OWNER, Role.MEMBER, Role.FINANCE],
    ).order_by("full_name")
    activity_form = ActivityForm(prefix="activity")
    rate_form = RateForm(prefix="rate", people=people)
    status = 200
    if request.method == "POST":
        form: ActivityForm | RateForm
        if "activity-name" in request.POST:
            form = activity_form = ActivityForm(request.POST, prefix="activity")
        else:
            form = rate_form = RateForm(request.POST, prefix="rate", people=people)
        if form.is_valid():
            try:
                if isinstance(form, ActivityForm):
                    services.activity_create(
                        membership=membership, engagement=engagement, **form.cleaned_data
                    )
                else:
                    data = form.cleaned_data
                    services.rate_set(
                        membership=membership,
                        engagement=engagement,
                        daily_rate=data["daily_rate"],
                        user=data["person"],
                        title=data["title"],
                    )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Saved."))
                return redirect("consumption-settings", ws=membership.workspace.slug, pk=pk)
        status = 400
    context = {
        "engagement": engagement,
        "activities": engagement.activities.order_by("name"),
        "rates": engagement.rates.select_related("user").order_by("title", "user__full_name"),
        "activity_form": activity_form,
        "rate_form": rate_form,
    }
    return render(request, "consumption/settings.html", context, status=status)


@workspace_view()
def notices(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The person's in-app notices in this workspace; POST marks them all read."""
    mine = Notice.objects.filter(user=membership.user, workspace_id=membership.workspace_id)
    if request.method == "POST":
        notices_mark_read(membership=membership)
        return redirect("notices", ws=membership.workspace.slug)
    return render(
        request, "consumption/notices.html", {"notices": mine.order_by("-created_at")[:100]}
    )


def referral_counts(*, fetched_by: Membership) -> object:
    # Referrals given and received are workspace figures too (emergence: say no and refer).
    from confiance.emergence.selectors import referral_counts as counts

    return counts(fetched_by=fetched_by)


@workspace_view(check=access.is_internal)
def portfolio(request: HttpRequest, membership: Membership) -> HttpResponse:
    """Workspace figures: closed engagements delivered under budget, and by how much."""
    return render(
        request,
        "consumption/portfolio.html",
        {
            "figure": selectors.portfolio_under_budget(fetched_by=membership),
            "referrals": referral_counts(fetched_by=membership),
        },
    )
