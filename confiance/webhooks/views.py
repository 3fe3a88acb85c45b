"""The owner's webhook pages: endpoints, one endpoint with its log, ping, replay, remove."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from confiance import access
from confiance.core.decorators import workspace_view
from confiance.core.forms import add_service_errors
from confiance.core.models import Membership
from confiance.webhooks import selectors, services
from confiance.webhooks.forms import EndpointEditForm, EndpointForm
from confiance.webhooks.models import WebhookDelivery, WebhookEndpoint

DELIVERIES_PER_PAGE = 25


@workspace_view(check=access.can_manage_webhooks)
def endpoints(request: HttpRequest, membership: Membership) -> HttpResponse:
    """The workspace's endpoints; POST adds one."""
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(membership=membership, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Endpoint added. Copy its signing secret below."))
            return redirect("webhook-detail", ws=membership.workspace.slug, pk=endpoint.pk)
    context = {"endpoints": selectors.endpoint_list(fetched_by=membership), "form": form}
    return render(request, "webhooks/endpoints.html", context, status=400 if form.errors else 200)


def _endpoint(membership: Membership, pk: int) -> WebhookEndpoint:
    try:
        return selectors.endpoint_get(fetched_by=membership, endpoint_id=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None


@workspace_view(check=access.can_manage_webhooks)
def endpoint_detail(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """One endpoint: its settings (POST changes them), its secret, its delivery log."""
    endpoint = _endpoint(membership, pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "active": endpoint.is_active,
    }
    form = EndpointEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(membership=membership, endpoint_id=pk, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhook-detail", ws=membership.workspace.slug, pk=pk)
    deliveries = Paginator(
        selectors.delivery_list(fetched_by=membership, endpoint=endpoint), DELIVERIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    context = {
        "endpoint": endpoint,
        "secret": services.endpoint_secret(endpoint),
        "disabled_reason": services.disabled_reason_text(
            endpoint.disabled_reason, endpoint.failure_streak
        ),
        "form": form,
        "deliveries": deliveries,
    }
    return render(request, "webhooks/endpoint.html", context, status=400 if form.errors else 200)


@require_POST
@workspace_view(check=access.can_manage_webhooks)
def endpoint_ping(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        services.endpoint_ping(membership=membership, endpoint_id=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Test event sent; its result appears in the log below."))
    return redirect("webhook-detail", ws=membership.workspace.slug, pk=pk)


@require_POST
@workspace_view(check=access.can_manage_webhooks)
def endpoint_remove(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        services.endpoint_remove(membership=membership, endpoint_id=pk)
    except WebhookEndpoint.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Endpoint removed."))
    return redirect("webhooks", ws=membership.workspace.slug)


@require_POST
@workspace_view(check=access.can_manage_webhooks)
def delivery_replay(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        delivery = services.delivery_replay(membership=membership, delivery_id=pk)
    except WebhookDelivery.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Sent again; its result appears in the log."))
    return redirect("webhook-detail", ws=membership.workspace.slug, pk=delivery.endpoint_id)
