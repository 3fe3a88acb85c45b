"""Reads of engagements; each starts from the policy-scoped queryset."""

from __future__ import annotations

from django.db.models import QuerySet

from confiance.core.models import Membership
from confiance.engagements.models import Engagement, EngagementStatus


def engagement_list(
    *, fetched_by: Membership, status: str = "", client_id: int | None = None
) -> QuerySet[Engagement]:
    """Engagements the viewer may see, optionally filtered; one query whatever their number."""
    queryset = Engagement.objects.visible_to(fetched_by).select_related("client", "lead")
    if status in EngagementStatus.values:
        queryset = queryset.filter(status=status)
    if client_id is not None:
        queryset = queryset.filter(client_id=client_id)
    return queryset.order_by("-start_date", "-id")
