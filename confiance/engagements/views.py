"""Engagement pages: the list (with an htmx-filtered partial), the detail and the creation form."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from confiance import access
from confiance.core import selectors as core_selectors
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import INTERNAL_ROLES, Membership, User
from confiance.engagements import selectors, services
from confiance.engagements.forms import EngagementFilterForm, EngagementForm

PAGE_SIZE = 50


@workspace_view()
def engagement_list(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The engagements the viewer may see; htmx requests get only the table."""
    filters = EngagementFilterForm(request.GET or None)
    status = filters.cleaned_data["status"] if filters.is_valid() else ""
    queryset = selectors.engagement_list(fetched_by=membership, status=status)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "status": status}
    template = "engagements/engagement_list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(request, template, context)


@workspace_view()
def engagement_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    engagement = access.get_engagement(membership, pk)
    context = {
        "engagement": engagement,
        "show_internal": access.can_see_internal_notes(membership),
    }
    return render(request, "engagements/engagement_detail.html", context)


@workspace_view(check=access.can_manage_engagements)
def engagement_create(request: HttpRequest, membership: Membership) -> HttpResponse:
    leads = User.objects.filter(
        memberships__workspace_id=membership.workspace_id, memberships__role__in=INTERNAL_ROLES
    ).order_by("full_name")
    form = EngagementForm(
        request.POST or None,
        clients=core_selectors.client_list(fetched_by=membership),
        leads=leads,
        initial={"lead": membership.user_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.engagement_create(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Engagement created."))
            return redirect("engagement-detail", ws=membership.workspace.slug, pk=engagement.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "engagements/engagement_form.html", {"form": form}, status=status)
