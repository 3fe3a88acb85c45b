"""The common ground page of an engagement: its glossary and shared vision, both sides."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.alignment import selectors, services
from confiance.alignment.forms import GlossaryChangeForm, GlossaryForm, VisionForm
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.engagements.models import Engagement


def _page(
    request: HttpRequest,
    membership: Membership,
    engagement: Engagement,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    ground = selectors.common_ground(fetched_by=membership, engagement=engagement)
    bound = bound or {}
    vision = ground.vision_proposal or ground.vision
    initial = (
        {"problem": vision.problem, "outcome": vision.outcome, "success": vision.success}
        if vision
        else {
            # A first proposal starts from the problem statement the engagement opened with.
            "problem": engagement.client_problem,
        }
    )
    context: dict[str, Any] = {
        "engagement": engagement,
        "ground": ground,
        "glossary_form": bound.get("glossary") or GlossaryForm(),
        "vision_form": bound.get("vision") or VisionForm(initial=initial),
        "change_errors": bound.get("change"),
        # An ended engagement's common language is read; pending proposals can still be agreed.
        "proposing": ground.viewer_side and not access.engagement_ended(engagement),
    }
    return render(request, "alignment/common.html", context, status=status)


@workspace_view()
def common_ground(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """The glossary and the shared vision of the engagement, and what awaits an answer."""
    engagement = access.get_engagement(membership, pk)
    return _page(request, membership, engagement)


def _writer(membership: Membership, pk: int) -> Engagement:
    engagement = access.get_engagement(membership, pk)
    if access.alignment_side(membership, engagement) is None:
        raise Http404
    return engagement


def _done(request: HttpRequest, membership: Membership, pk: int, text: str, anchor: str):  # type: ignore[no-untyped-def]
    messages.success(request, text)
    response = redirect("common-ground", ws=membership.workspace.slug, pk=pk)
    response["Location"] += f"#{anchor}"
    return response


@require_POST
@workspace_view()
def glossary_propose(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = _writer(membership, pk)
    form = GlossaryForm(request.POST)
    if form.is_valid():
        try:
            services.glossary_propose(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request, membership, pk, _("Proposed: the other side is asked."), "glossary"
            )
    return _page(request, membership, engagement, bound={"glossary": form}, status=400)


@require_POST
@workspace_view()
def glossary_change(
    request: HttpRequest, membership: Membership, pk: int, entry_id: int
) -> HttpResponse:
    engagement = _writer(membership, pk)
    entry = selectors.glossary_entry(
        fetched_by=membership, engagement=engagement, entry_id=entry_id
    )
    form = GlossaryChangeForm(request.POST)
    if form.is_valid():
        try:
            services.glossary_propose(
                membership=membership,
                engagement=engagement,
                term=entry.term,
                meaning=form.cleaned_data["meaning"],
                replaces=entry,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(
                request, membership, pk, _("Proposed: the other side is asked."), "glossary"
            )
    return _page(request, membership, engagement, bound={"change": form}, status=400)


@require_POST
@workspace_view()
def glossary_agree(
    request: HttpRequest, membership: Membership, pk: int, entry_id: int
) -> HttpResponse:
    engagement = _writer(membership, pk)
    entry = selectors.glossary_entry(
        fetched_by=membership, engagement=engagement, entry_id=entry_id
    )
    try:
        services.glossary_agree(membership=membership, entry=entry)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("common-ground", ws=membership.workspace.slug, pk=pk)
    return _done(request, membership, pk, _("Agreed: the term is common now."), "glossary")


@require_POST
@workspace_view()
def vision_propose(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = _writer(membership, pk)
    form = VisionForm(request.POST)
    if form.is_valid():
        try:
            services.vision_propose(
                membership=membership, engagement=engagement, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _done(request, membership, pk, _("Proposed: the other side is asked."), "vision")
    return _page(request, membership, engagement, bound={"vision": form}, status=400)


@require_POST
@workspace_view()
def vision_agree(
    request: HttpRequest, membership: Membership, pk: int, vision_id: int
) -> HttpResponse:
    engagement = _writer(membership, pk)
    vision = selectors.vision_get(fetched_by=membership, engagement=engagement, vision_id=vision_id)
    try:
        services.vision_agree(membership=membership, vision=vision)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("common-ground", ws=membership.workspace.slug, pk=pk)
    return _done(request, membership, pk, _("Accepted: this is the shared vision now."), "vision")
