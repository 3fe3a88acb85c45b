"""What every page needs for its navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from confiance import access
from confiance.core.models import Notice
from confiance.pulse.selectors import waiting_count as pulse_waiting_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "membership": membership,
        "nav": {
            "internal": access.is_internal(membership),
            "members": access.can_see_members(membership),
            "manage": access.can_manage_engagements(membership),
            # One query: the pulse rounds waiting for this person's answer.
            "pulse": pulse_waiting_count(membership),
            "unread": (
                Notice.objects.filter(
                    user_id=membership.user_id,
                    workspace_id=membership.workspace_id,
                    read_at__isnull=True,
                ).count()
                if membership is not None
                else 0
            ),
        },
    }
