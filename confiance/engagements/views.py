"""Engagement pages: the list (with an htmx-filtered partial), the detail and the creation form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core import selectors as core_selectors
from confiance.core import services as core_services
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import INTERNAL_ROLES, Membership, Role, User
from confiance.engagements import selectors, services, stops, tables
from confiance.engagements.forms import (
    EngagementEditForm,
    EngagementFilterForm,
    EngagementForm,
    InterlocutorForm,
    ObjectiveForm,
    StatusForm,
    StopAnswerForm,
    StopRequestForm,
)
from confiance.engagements.glance import glance
from confiance.engagements.models import Engagement


@workspace_view()
def engagement_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The engagements the viewer may see; htmx requests get only the table."""
    filters = EngagementFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    page = selectors.engagement_table_page(
        fetched_by=membership, number=request.GET.get("page"), status=status
    )
    engagements = list(page.object_list)
    figures = glance(fetched_by=membership, engagements=engagements)
    rows = [(e, figures[e.pk]) for e in engagements]
    context = {
        "filters": filters,
        "page": page,
        "status": status,
        "rows": rows,
        "table_rows": tables.list_rows(rows, workspace_slug=membership.workspace.slug),
    }
    template = "engagements/engagement_list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context)


def _leads(membership: Membership) -> QuerySet[User]:
    return User.objects.filter(
        memberships__workspace_id=membership.workspace_id, memberships__role__in=INTERNAL_ROLES
    ).order_by("full_name")


def _interlocutor_candidates(membership: Membership, engagement: Engagement) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__workspace_id=membership.workspace_id)
        .filter(
            Q(memberships__role__in=INTERNAL_ROLES)
            | Q(memberships__role=Role.CLIENT, memberships__client_id=engagement.client_id)
        )
        .distinct()
        .order_by("full_name")
    )


def _detail(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    manage = access.can_manage_engagements(membership)
    # An ended engagement's objectives and people are read, not added to.
    planning = manage and not access.engagement_ended(engagement)
    context = {
        "engagement": engagement,
        "at_a_glance": glance(fetched_by=membership, engagements=[engagement])[engagement.pk],
        "show_internal": access.can_see_internal_notes(membership),
        "objectives": engagement.objectives.all(),
        "interlocutors": engagement.interlocutors.select_related("user").order_by("side", "id"),
        "manage": manage,
        "objective_form": forms.get("objective_form") or (ObjectiveForm() if planning else None),
        "interlocutor_form": forms.get("interlocutor_form")
        or (
            InterlocutorForm(people=_interlocutor_candidates(membership, engagement))
            if planning
            else None
        ),
        "status_form": forms.get("status_form")
        or (StatusForm(initial={"status": engagement.status}) if manage else None),
        "stop_requests": list(engagement.stop_requests.select_related("asked_by", "answered_by")),
        "stop_form": forms.get("stop_form")
        or (
            StopRequestForm()
            if access.is_client_of(membership, engagement) and engagement.status in stops.STOPPABLE
            else None
        ),
        "stop_answer_form": forms.get("stop_answer_form") or (StopAnswerForm() if manage else None),
    }
    return render(request, "engagements/engagement_detail.html", context, status=status)


@workspace_view()
def engagement_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The engagement: facts, problem statement, objectives, interlocutors (both sides)."""
    engagement = access.get_engagement(membership, pk)
    return _detail(request, membership, engagement)


@workspace_view(check=access.can_manage_engagements)
def engagement_edit(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    initial = {name: getattr(engagement, name) for name in EngagementEditForm.base_fields}
    initial["lead"] = engagement.lead_id
    form = EngagementEditForm(request.POST or None, initial=initial, leads=_leads(membership))
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            if changed:
                services.engagement_update(membership=membership, engagement=engagement, **changed)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Engagement updated."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "engagements/engagement_form.html",
        {"form": form, "engagement": engagement},
        status=status,
    )


@require_POST
@workspace_view(check=access.can_manage_engagements)
def objective_add(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    form = ObjectiveForm(request.POST)
    if form.is_valid():
        try:
            services.objective_add(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Objective added."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    return _detail(request, membership, engagement, status=400, objective_form=form)


@require_POST
@workspace_view(check=access.can_manage_engagements)
def interlocutor_add(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    form = InterlocutorForm(request.POST, people=_interlocutor_candidates(membership, engagement))
    if form.is_valid():
        try:
            services.interlocutor_set(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Interlocutor saved."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    return _detail(request, membership, engagement, status=400, interlocutor_form=form)


@require_POST
@workspace_view(check=access.can_manage_engagements)
def status_change(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.engagement_set_status(
                membership=membership,
                engagement=engagement,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Status changed."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    return _detail(request, membership, engagement, status=400, status_form=form)


@workspace_view(check=access.can_manage_engagements)
def engagement_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    leads = User.objects.filter(
        memberships__workspace_id=membership.workspace_id, memberships__role__in=INTERNAL_ROLES
    ).order_by("full_name")
    form = EngagementForm(
        request.POST or None,
        clients=core_selectors.client_list(fetched_by=membership),
        leads=leads,
        initial={"lead": membership.user_id, "client": request.GET.get("client")},
    )
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        new_client = fields.pop("new_client").strip()
        try:
            # A new client and its first engagement are made together, or not at all.
            with transaction.atomic():
                if new_client:
                    try:
                        fields["client"] = core_services.client_create(
                            membership=membership, name=new_client
                        )
                    except ValidationError as error:
                        raise ValidationError({"new_client": error.message_dict["name"]}) from None
                engagement = services.engagement_create(membership=membership, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Engagement created."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "engagements/engagement_form.html", {"form": form}, status=status)


@require_POST
@workspace_view()
def stop_request(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The client asks to stop the engagement early, with its reason."""
    engagement = access.get_engagement(membership, pk)
    if not access.is_client_of(membership, engagement):
        raise Http404
    form = StopRequestForm(request.POST)
    if form.is_valid():
        try:
            stops.stop_request_create(
                membership=membership, engagement=engagement, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request is sent: the provider answers it."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    return _detail(request, membership, engagement, status=400, stop_form=form)


@require_POST
@workspace_view(check=access.can_manage_engagements)
def stop_answer(request: HttpRequest, membership: Membership, pk: int, sid: int) -> HttpResponse:
    """The provider accepts or declines the client's request to stop early."""
    engagement = access.get_engagement(membership, pk)
    stop = engagement.stop_requests.filter(pk=sid).first()
    if stop is None:
        raise Http404
    form = StopAnswerForm(request.POST)
    if form.is_valid():
        try:
            stops.stop_request_answer(
                membership=membership,
                stop_request=stop,
                accept=form.cleaned_data["decision"] == "accept",
                answer=form.cleaned_data["answer"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Answer recorded; the client is told."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    return _detail(request, membership, engagement, status=400, stop_answer_form=form)
