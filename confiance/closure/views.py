"""Closure pages: the analysis (both sides), its forms, the approval, and the PDF report."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.closure import report, selectors, services
from confiance.closure.forms import ApproveForm, AssessForm, RetrospectiveForm, StartForm
from confiance.closure.models import Closure, Outcome
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.engagements.models import Engagement, EngagementStatus


def _engagement(membership: Membership, pk: int) -> Engagement:
    engagement = access.get_engagement(membership, pk)
    if not access.can_see_closure(membership, engagement):
        raise Http404
    return engagement


def _closure(membership: Membership, engagement: Engagement) -> Closure:
    closure = selectors.closure_of(fetched_by=membership, engagement=engagement)
    if closure is None:
        raise Http404
    return closure


def _back(membership: Membership, engagement: Engagement) -> HttpResponse:
    return redirect("closure", ws=membership.workspace.slug, pk=engagement.pk)


def _page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    status: int = 200,
    **forms: Any,
) -> HttpResponse:
    closure = selectors.closure_of(fetched_by=membership, engagement=engagement)
    can_run = access.can_run_closure(membership, engagement)
    side = access.closure_side(membership, engagement)
    context: dict[str, Any] = {
        "engagement": engagement,
        "closure": closure,
        "can_run": can_run,
        "side": side,
    }
    if closure is None:
        startable = can_run and engagement.status in services.CLOSABLE
        stopped = engagement.status == EngagementStatus.STOPPED_EARLY
        context["start_form"] = (
            forms.get("start_form")
            or StartForm(
                initial={"outcome": Outcome.STOPPED_EARLY if stopped else Outcome.COMPLETED}
            )
            if startable
            else None
        )
        return render(request, "closure/closure.html", context, status=status)
    view = selectors.closure_view(fetched_by=membership, closure=closure)
    bound = forms.get("assess_forms", {})
    if can_run:
        for row in view.rows:
            initial = (
                {"attainment": row.assessment.attainment, "evidence": row.assessment.evidence}
                if row.assessment
                else {}
            )
            row.form = bound.get(row.objective.pk) or AssessForm(  # type: ignore[attr-defined]
                initial=initial, prefix=f"o{row.objective.pk}"
            )
    mine = view.contribution_of(membership.user_id)
    retro_form = None
    if side is not None:
        retro_form = forms.get("retro_form") or RetrospectiveForm(
            initial=(
                {
                    "went_well": mine.went_well,
                    "to_improve": mine.to_improve,
                    "lessons": mine.lessons,
                }
                if mine
                else {}
            )
        )
    can_approve = access.can_approve_closure(membership, engagement)
    still_open = selectors.open_items(engagement=engagement)
    approve_form = None
    if can_approve and view.all_assessed and not view.approval.valid:
        approve_form = forms.get("approve_form") or ApproveForm(
            initial={"analysis_hash": view.approval.current_hash}, open_count=still_open.count
        )
    approved = view.approval.approval
    context.update(
        open_items=still_open,
        # What changed since a now-void approval, in the reader's language.
        changes=(
            selectors.analysis_diff(approved.analysis, view.data)
            if approved is not None and view.approval.void
            else []
        ),
        view=view,
        retro_form=retro_form,
        mine=mine,
        can_approve=can_approve,
        approve_form=approve_form,
    )
    return render(request, "closure/closure.html", context, status=status)


@workspace_view()
def closure_page(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The closure: outcome, objectives' attainment, consumption, retrospective, approval."""
    engagement = _engagement(membership, pk)
    return _page(request, membership, engagement)


@require_POST
@workspace_view()
def closure_start(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = _engagement(membership, pk)
    if not access.can_run_closure(membership, engagement):
        raise Http404
    form = StartForm(request.POST)
    if form.is_valid():
        try:
            services.closure_start(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The closure has started."))
            return _back(membership, engagement)
    return _page(request, membership, engagement, status=400, start_form=form)


@require_POST
@workspace_view()
def objective_assess(
    request: HttpRequest, membership: Membership, pk: int, objective_id: int
) -> HttpResponse:
    engagement = _engagement(membership, pk)
    if not access.can_run_closure(membership, engagement):
        raise Http404
    closure = _closure(membership, engagement)
    objective = engagement.objectives.filter(pk=objective_id).first()
    if objective is None:
        raise Http404
    form = AssessForm(request.POST, prefix=f"o{objective.pk}")
    if form.is_valid():
        try:
            services.objective_assess(
                membership=membership, closure=closure, objective=objective, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Attainment recorded."))
            return _back(membership, engagement)
    return _page(request, membership, engagement, status=400, assess_forms={objective.pk: form})


@require_POST
@workspace_view()
def retrospective_write(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = _engagement(membership, pk)
    side = access.closure_side(membership, engagement)
    if side is None:
        raise Http404
    closure = _closure(membership, engagement)
    form = RetrospectiveForm(request.POST)
    if form.is_valid():
        try:
            services.retrospective_write(
                membership=membership, closure=closure, side=side, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your retrospective is saved."))
            return _back(membership, engagement)
    return _page(request, membership, engagement, status=400, retro_form=form)


@require_POST
@workspace_view()
def closure_approve(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = _engagement(membership, pk)
    if not access.can_approve_closure(membership, engagement):
        raise Http404
    closure = _closure(membership, engagement)
    form = ApproveForm(request.POST, open_count=selectors.open_items(engagement=engagement).count)
    if form.is_valid():
        try:
            services.closure_approve(
                membership=membership,
                closure=closure,
                seen_hash=form.cleaned_data["analysis_hash"],
                open_items_acknowledged=bool(form.cleaned_data.get("acknowledge_open")),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Approved for payment."))
            return _back(membership, engagement)
    elif "analysis_hash" in form.errors:
        form.add_error(None, _("Reload the page and approve the analysis you read."))
    return _page(request, membership, engagement, status=400, approve_form=form)


@workspace_view()
def closure_report(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The closure report as a PDF: the same document for both sides, with nothing internal."""
    engagement = _engagement(membership, pk)
    closure = _closure(membership, engagement)
    view = selectors.closure_view(fetched_by=membership, closure=closure)
    extras = selectors.report_extras(fetched_by=membership, engagement=engagement)
    pdf = report.render_pdf(view=view, extras=extras)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = slugify(engagement.title) or "engagement"
    response["Content-Disposition"] = f'attachment; filename="closure-{name}.pdf"'
    return response
