"""Follow-up objects for the URL access test, created once per world on first use."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from confiance.followup import services
from tests.conftest import World


def commitment_id(w: World) -> int:
    if not hasattr(w, "_commitment_id"):
        w._commitment_id = services.commitment_create(  # type: ignore[attr-defined]
            membership=w.member,
            engagement=w.engagement,
            side="provider",
            owner=w.member.user,
            text="Deliver the migration plan",
            due_date=timezone.localdate() + timedelta(days=7),
        ).pk
    return w._commitment_id  # type: ignore[attr-defined]


def renegotiation_kwargs(w: World) -> dict[str, object]:
    from confiance.followup.models import Commitment

    cid = commitment_id(w)
    proposal = services.renegotiation_propose(
        membership=w.member,
        commitment=Commitment.objects.get(pk=cid),
        reason="The data arrived late",
        new_due_date=timezone.localdate() + timedelta(days=14),
    )
    return {"ws": w.workspace.slug, "pk": w.engagement.pk, "cid": cid, "rid": proposal.pk}


def meeting_id(w: World, cancelled: bool = False) -> int:
    meeting = services.meeting_create(
        membership=w.member,
        engagement=w.engagement,
        title="Steering committee",
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=60,
        channel="video",
        attendees=[w.member.user, w.client_contact.user],
    )
    if cancelled:
        services.meeting_cancel(membership=w.member, meeting=meeting)
    return meeting.pk


def payment_id(w: World) -> int:
    today = timezone.localdate()
    return services.payment_create(
        membership=w.finance,
        engagement=w.engagement,
        kind="deposit",
        label="Deposit 30 %",
        amount=Decimal("3000.00"),
        issue_date=today - timedelta(days=10),
        due_date=today + timedelta(days=20),
    ).pk


def review_id(w: World) -> int:
    """A client commitment the provider marked broken: a review awaiting the client's answer."""
    from confiance.followup.models import FactReview

    commitment = services.commitment_create(
        membership=w.client_contact,
        engagement=w.engagement,
        side="client",
        owner=w.client_contact.user,
        text="Send the test data",
        due_date=timezone.localdate() + timedelta(days=7),
    )
    services.commitment_set_status(membership=w.member, commitment=commitment, status="broken")
    return FactReview.objects.get(status_change__commitment=commitment).pk
