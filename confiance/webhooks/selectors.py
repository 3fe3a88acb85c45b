"""Reads of webhooks: the owner's endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from confiance import access
from confiance.core.models import Membership
from confiance.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)


def endpoint_list(*, fetched_by: Membership) -> QuerySet[WebhookEndpoint]:
    """The workspace's endpoints with their failed and pending counts (none for non-owners)."""
    if not access.can_manage_webhooks(fetched_by):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.filter(workspace_id=fetched_by.workspace_id).annotate(
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        waiting=Count(
            "deliveries",
            filter=Q(deliveries__status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]),
        ),
    )


def endpoint_get(*, fetched_by: Membership, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint of the workspace, for its owner; else DoesNotExist (a 404)."""
    return WebhookEndpoint.objects.filter(
        pk=endpoint_id,
        workspace_id=fetched_by.workspace_id if access.can_manage_webhooks(fetched_by) else -1,
    ).get()


def delivery_list(
    *, fetched_by: Membership, endpoint: WebhookEndpoint
) -> QuerySet[WebhookDelivery]:
    """An endpoint's deliveries, newest first, each with its attempts (two queries a page)."""
    if (
        not access.can_manage_webhooks(fetched_by)
        or endpoint.workspace_id != fetched_by.workspace_id
    ):
        return WebhookDelivery.objects.none()
    return WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related(
        Prefetch("tries", queryset=WebhookAttempt.objects.order_by("id"))
    )
