"""Reads of the follow-up; each starts from the engagements the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from confiance import access
from confiance.core.models import Client, Membership, Role, User
from confiance.engagements.models import Engagement
from confiance.followup.models import (
    CLOSED_STATUSES,
    LIVE_STATUSES,
    Commitment,
    CommitmentRevision,
    CommitmentStatus,
    Meeting,
    MeetingAttendee,
    Payment,
    Renegotiation,
    Side,
)


def _reachable(fetched_by: Membership, engagement: Engagement) -> None:
    if not Engagement.objects.visible_to(fetched_by).filter(pk=engagement.pk).exists():
        raise Http404


def commitment_list(*, fetched_by: Membership, engagement: Engagement) -> list[Commitment]:
    """The engagement's commitments of both sides, with owner and pending renegotiation."""
    commitments: list[Commitment] = list(
        Commitment.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement
        )
        .select_related("owner", "status_changed_by")
        .prefetch_related(
            Prefetch(
                "renegotiations",
                queryset=Renegotiation.objects.filter(
                    state=Renegotiation.State.PENDING
                ).select_related("proposed_by"),
                to_attr="pending",
            )
        )
    )
    today = timezone.localdate()
    for c in commitments:
        c.overdue = c.is_overdue(today)  # type: ignore[attr-defined]
        c.pending_renegotiation = c.pending[0] if c.pending else None  # type: ignore[attr-defined]
    return commitments


def commitment_get(*, fetched_by: Membership, engagement: Engagement, pk: int) -> Commitment:
    """One commitment of an engagement the viewer may see, or 404."""
    commitment = (
        Commitment.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement, pk=pk
        )
        .select_related("owner", "engagement", "created_by")
        .first()
    )
    if commitment is None:
        raise Http404
    return commitment


def commitment_history(*, commitment: Commitment) -> QuerySet[CommitmentRevision]:
    """Every version of a commitment, oldest first (the commitment was fetched through policy)."""
    return commitment.revisions.select_related("proposed_by", "agreed_by").order_by("version")


@dataclass(frozen=True)
class KeptFigure:
    side: str
    kept_on_time: int
    closed: int

    @property
    def percent(self) -> int | None:
        return None if not self.closed else round(100 * self.kept_on_time / self.closed)


def commitments_kept(*, fetched_by: Membership, engagement: Engagement) -> dict[str, KeptFigure]:
    """Per side: commitments kept on time over commitments closed (kept, kept late, broken)."""
    rows = (
        Commitment.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement
        )
        .values("side")
        .annotate(
            kept=Count("id", filter=Q(status=CommitmentStatus.KEPT)),
            closed=Count("id", filter=Q(status__in=CLOSED_STATUSES)),
        )
    )
    figures = {side: KeptFigure(side, 0, 0) for side in Side.values}
    for row in rows:
        figures[row["side"]] = KeptFigure(row["side"], row["kept"], row["closed"])
    return figures


def overdue_commitments(*, today: date | None = None) -> QuerySet[Commitment]:
    """Live commitments past their due date whose owner was not reminded of this due date."""
    today = today or timezone.localdate()
    return (
        Commitment.objects.filter(status__in=LIVE_STATUSES, due_date__lt=today)
        .exclude(reminder_due_date=F("due_date"))
        .select_related("owner", "engagement__workspace")
    )


def overdue_payments(*, today: date | None = None) -> QuerySet[Payment]:
    """Unpaid payments past their due date whose reminder has not been sent."""
    today = today or timezone.localdate()
    return Payment.objects.filter(
        paid_date__isnull=True, due_date__lt=today, reminded_at__isnull=True
    ).select_related("engagement__workspace")


def meeting_list(*, fetched_by: Membership, engagement: Engagement) -> list[Meeting]:
    """The engagement's meetings with their attendees (internal notes stay in the row: the
    template shows them only when access.can_see_internal_notes)."""
    return list(
        Meeting.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement
        )
        .select_related("cancelled_by")
        .prefetch_related(
            Prefetch("attendees", queryset=MeetingAttendee.objects.select_related("user"))
        )
    )


def meeting_get(*, fetched_by: Membership, engagement: Engagement, pk: int) -> Meeting:
    meeting = (
        Meeting.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement, pk=pk
        )
        .select_related("engagement", "cancelled_by", "held_recorded_by")
        .prefetch_related(
            Prefetch("attendees", queryset=MeetingAttendee.objects.select_related("user"))
        )
        .first()
    )
    if meeting is None:
        raise Http404
    return meeting


def meetings_for_feed(*, user: User) -> list[Meeting]:
    """Meetings the person is expected at, across their workspaces, within their reach today."""
    meetings: list[Meeting] = []
    memberships = user.memberships.select_related("workspace", "client")
    for membership in memberships:
        if membership.role == Role.EXPERT:
            continue
        meetings += list(
            Meeting.objects.filter(
                engagement__in=Engagement.objects.visible_to(membership),
                attendees__user=user,
            )
            .select_related("engagement__client", "engagement__workspace")
            .order_by("starts_at")
        )
    return meetings


def payment_list(*, fetched_by: Membership, engagement: Engagement) -> list[Payment]:
    """Deposits and invoices of the engagement, for those allowed to see them, else none."""
    if not access.can_see_payments(fetched_by, engagement):
        return []
    return list(
        Payment.objects.filter(
            engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement
        ).select_related("paid_recorded_by")
    )


def payment_get(*, fetched_by: Membership, engagement: Engagement, pk: int) -> Payment:
    if not access.can_see_payments(fetched_by, engagement):
        raise Http404
    payment = Payment.objects.filter(
        engagement__in=Engagement.objects.visible_to(fetched_by), engagement=engagement, pk=pk
    ).first()
    if payment is None:
        raise Http404
    return payment


@dataclass(frozen=True)
class Promptness:
    paid: int
    average_days: Decimal | None


def client_payment_promptness(*, fetched_by: Membership, client: Client) -> Promptness:
    """Average days between due and paid dates over the client's paid payments (negative =
    early), over the engagements the viewer may see."""
    engagements = Engagement.objects.visible_to(fetched_by).filter(client=client)
    if not (access.is_internal(fetched_by) or fetched_by.client_id == client.pk):
        return Promptness(0, None)
    paid = list(
        Payment.objects.filter(engagement__in=engagements, paid_date__isnull=False).only(
            "paid_date", "due_date"
        )
    )
    if not paid:
        return Promptness(0, None)
    total = sum((p.promptness_days or 0) for p in paid)
    return Promptness(len(paid), (Decimal(total) / len(paid)).quantize(Decimal("0.1")))
