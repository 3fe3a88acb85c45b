"""What every page needs for its navigation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import F, Func, OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from confiance import access
from confiance.core.models import Membership, Notice, Role
from confiance.core.queries import Prepared
from confiance.pulse.selectors import rounds_waiting


def _count(queryset: QuerySet[Any]) -> Subquery:
    """COUNT(*) of a queryset as a scalar subquery (no GROUP BY)."""
    return Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1])


def _counts_query(shape: str) -> Prepared:
    """Unread notices and pulse rounds waiting for one person, in one query compiled once per
    shape of the person's reach (the provider's people, a client contact, anyone else)."""

    def make(
        membership_id: int, user_id: int, workspace_id: int, now: datetime, client_id: int = 0
    ) -> QuerySet[Any]:
        person = Membership(
            pk=membership_id,
            user_id=user_id,
            workspace_id=workspace_id,
            client_id=client_id or None,
            role=Role.OWNER if shape == "internal" else Role.CLIENT,
        )
        unread = Notice.objects.filter(
            user_id=OuterRef("user_id"), workspace_id=OuterRef("workspace_id"), read_at__isnull=True
        )
        return (
            Membership.objects.filter(pk=membership_id)
            .annotate(
                unread=_count(unread),
                # rounds_waiting's own rule and reach (the access policy), counted.
                pulse=_count(rounds_waiting(fetched_by=person, now=now)),
            )
            .values_list("unread", "pulse")
        )

    kinds: dict[str, type] = {"membership_id": int, "user_id": int, "workspace_id": int}
    kinds["now"] = datetime
    if shape == "client":
        kinds["client_id"] = int
    return Prepared(make, **kinds)


_COUNTS = {shape: _counts_query(shape) for shape in ("internal", "client")}


def navigation_counts(membership: Membership) -> tuple[int, int]:
    """(unread notices, pulse rounds waiting for an answer) for the navigation: one query."""
    if access.is_internal(membership):
        shape = "internal"
    elif membership.role == Role.CLIENT and membership.client_id is not None:
        shape = "client"
    else:  # sees no engagement, so no round; notices only
        return (
            Notice.objects.filter(
                user_id=membership.user_id,
                workspace_id=membership.workspace_id,
                read_at__isnull=True,
            ).count(),
            0,
        )
    values: dict[str, Any] = {
        "membership_id": membership.pk,
        "user_id": membership.user_id,
        "workspace_id": membership.workspace_id,
        "now": timezone.now(),
    }
    if shape == "client":
        values["client_id"] = membership.client_id
    for unread, pulse in _COUNTS[shape].rows(**values):
        return unread or 0, pulse or 0
    return 0, 0


def navigation(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    unread, pulse = navigation_counts(membership) if membership is not None else (0, 0)
    return {
        "membership": membership,
        "nav": {
            "internal": access.is_internal(membership),
            "members": access.can_see_members(membership),
            "manage": access.can_manage_engagements(membership),
            "pulse": pulse,
            "unread": unread,
        },
    }
