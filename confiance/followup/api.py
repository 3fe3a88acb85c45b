"""API of the follow-up: commitments (create, status, renegotiate, agree), meetings with their
attendance, payments, and what one side recorded about the other (confirm or contest). Same
services and access policy as the follow-up pages.

These lists are an engagement's own (dozens, not thousands): returned whole.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from confiance import access
from confiance.api.common import caller, engagement_for, person, require
from confiance.core.models import Membership
from confiance.followup import reviews, selectors, services
from confiance.followup.models import (
    Attendance,
    Commitment,
    CommitmentStatus,
    FactReview,
    Meeting,
    MeetingChannel,
    MeetingStatus,
    Payment,
    PaymentKind,
    Renegotiation,
    ReviewState,
    ReviewSubject,
    Side,
)

router = Router(tags=["follow-up"])


def _viewer(context: dict[str, Any] | None) -> Membership | None:
    return context["request"].auth if context else None  # type: ignore[no-any-return]


# Commitments -------------------------------------------------------------------------------


class RenegotiationOut(Schema):
    id: int
    new_due_date: date | None
    new_text: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    state: Renegotiation.State

    @staticmethod
    def resolve_proposed_by(obj: Renegotiation) -> str:
        return obj.proposed_by.get_full_name()


class CommitmentOut(Schema):
    id: int
    side: Side
    owner_id: int
    owner_name: str
    text: str
    due_date: date
    status: CommitmentStatus
    version: int
    status_changed_at: datetime | None
    pending_renegotiation: RenegotiationOut | None = None

    @staticmethod
    def resolve_owner_name(obj: Commitment) -> str:
        return obj.owner.get_full_name()

    @staticmethod
    def resolve_pending_renegotiation(obj: Commitment) -> Renegotiation | None:
        return getattr(obj, "pending_renegotiation", None) or (
            obj.renegotiations.filter(state=Renegotiation.State.PENDING).first()
        )


class CommitmentIn(Schema):
    side: Side
    owner_id: int
    text: str
    due_date: date


class StatusIn(Schema):
    status: CommitmentStatus = Field(..., description="kept, broken or withdrawn")
    note: str = ""


class RenegotiationIn(Schema):
    reason: str
    new_due_date: date | None = None
    new_text: str = ""


class DecisionIn(Schema):
    agree: bool


def _commitment(request: HttpRequest, engagement_id: int, commitment_id: int) -> Commitment:
    return selectors.commitment_get(
        fetched_by=caller(request),
        engagement=engagement_for(request, engagement_id),
        pk=commitment_id,
    )


@router.get(
    "/{engagement_id}/commitments",
    response=list[CommitmentOut],
    summary="Both sides' commitments",
)
def list_commitments(request: HttpRequest, engagement_id: int) -> list[Commitment]:
    engagement = engagement_for(request, engagement_id)
    return selectors.commitment_list(fetched_by=caller(request), engagement=engagement)


@router.get(
    "/{engagement_id}/commitments/{commitment_id}",
    response=CommitmentOut,
    summary="One commitment",
)
def get_commitment(request: HttpRequest, engagement_id: int, commitment_id: int) -> Commitment:
    return _commitment(request, engagement_id, commitment_id)


@router.post(
    "/{engagement_id}/commitments",
    response={201: CommitmentOut},
    summary="Record a commitment (each side for itself; the provider may record the client's)",
)
def create_commitment(
    request: HttpRequest, engagement_id: int, data: CommitmentIn
) -> tuple[int, Commitment]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.followup_side(membership, engagement) is not None)
    commitment = services.commitment_create(
        membership=membership,
        engagement=engagement,
        side=data.side,
        owner=person(membership, data.owner_id, "owner_id"),  # type: ignore[arg-type]
        text=data.text,
        due_date=data.due_date,
    )
    return 201, commitment


@router.post(
    "/{engagement_id}/commitments/{commitment_id}/status",
    response=CommitmentOut,
    summary="Mark a commitment kept (late if past due), broken or withdrawn (either side)",
)
def set_commitment_status(
    request: HttpRequest, engagement_id: int, commitment_id: int, data: StatusIn
) -> Commitment:
    membership = caller(request)
    commitment = _commitment(request, engagement_id, commitment_id)
    require(access.can_set_commitment_status(membership, commitment.engagement))
    return services.commitment_set_status(
        membership=membership, commitment=commitment, status=data.status, note=data.note
    )


@router.post(
    "/{engagement_id}/commitments/{commitment_id}/renegotiations",
    response={201: RenegotiationOut},
    summary="Ask to change a commitment's date or wording (the side that committed)",
)
def propose_renegotiation(
    request: HttpRequest, engagement_id: int, commitment_id: int, data: RenegotiationIn
) -> tuple[int, Renegotiation]:
    membership = caller(request)
    commitment = _commitment(request, engagement_id, commitment_id)
    require(access.can_propose_renegotiation(membership, commitment.engagement, commitment.side))
    return 201, services.renegotiation_propose(
        membership=membership,
        commitment=commitment,
        reason=data.reason,
        new_due_date=data.new_due_date,
        new_text=data.new_text,
    )


@router.post(
    "/{engagement_id}/commitments/{commitment_id}/renegotiations/{renegotiation_id}/decision",
    response=RenegotiationOut,
    summary="Agree to or decline a renegotiation (the other side)",
)
def decide_renegotiation(
    request: HttpRequest,
    engagement_id: int,
    commitment_id: int,
    renegotiation_id: int,
    data: DecisionIn,
) -> Renegotiation:
    membership = caller(request)
    commitment = _commitment(request, engagement_id, commitment_id)
    require(access.can_agree_renegotiation(membership, commitment.engagement, commitment.side))
    renegotiation = commitment.renegotiations.select_related("proposed_by").get(pk=renegotiation_id)
    return services.renegotiation_decide(
        membership=membership, renegotiation=renegotiation, agree=data.agree
    )


# Meetings ----------------------------------------------------------------------------------


class AttendeeOut(Schema):
    user_id: int
    name: str
    side: Side
    attendance: Attendance | None = Field(None, description="None until recorded.")

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return obj.user.get_full_name()

    @staticmethod
    def resolve_attendance(obj: Any) -> str | None:
        return obj.attendance or None


class MeetingOut(Schema):
    id: int
    title: str
    starts_at: datetime
    duration_minutes: int
    channel: MeetingChannel
    location: str
    status: MeetingStatus
    minutes: str
    internal_notes: str | None = Field(None, description="Only for the provider's people.")
    cancelled_at: datetime | None
    cancelled_by_side: str
    cancel_reason: str
    attendees: list[AttendeeOut]

    @staticmethod
    def resolve_attendees(obj: Meeting) -> list[Any]:
        return list(obj.attendees.all())

    @staticmethod
    def resolve_internal_notes(obj: Meeting, context: dict[str, Any]) -> str | None:
        return obj.internal_notes if access.can_see_internal_notes(_viewer(context)) else None


class MeetingIn(Schema):
    title: str = Field(..., max_length=200)
    starts_at: datetime
    duration_minutes: int = Field(..., ge=1, le=24 * 60)
    channel: MeetingChannel
    location: str = Field("", max_length=300)
    attendee_ids: list[int] = Field(default_factory=list)


class CancelIn(Schema):
    reason: str = ""


class AttendanceIn(Schema):
    user_id: int
    attendance: Attendance


class RecordIn(Schema):
    attendance: list[AttendanceIn]
    minutes: str = ""
    internal_notes: str = ""


def _meeting(request: HttpRequest, engagement_id: int, meeting_id: int) -> Meeting:
    return selectors.meeting_get(
        fetched_by=caller(request),
        engagement=engagement_for(request, engagement_id),
        pk=meeting_id,
    )


@router.get("/{engagement_id}/meetings", response=list[MeetingOut], summary="Meetings and visits")
def list_meetings(request: HttpRequest, engagement_id: int) -> list[Meeting]:
    engagement = engagement_for(request, engagement_id)
    return selectors.meeting_list(fetched_by=caller(request), engagement=engagement)


@router.get("/{engagement_id}/meetings/{meeting_id}", response=MeetingOut, summary="One meeting")
def get_meeting(request: HttpRequest, engagement_id: int, meeting_id: int) -> Meeting:
    return _meeting(request, engagement_id, meeting_id)


@router.post(
    "/{engagement_id}/meetings",
    response={201: MeetingOut},
    summary="Plan a meeting with the people expected (owner and consultants)",
)
def create_meeting(
    request: HttpRequest, engagement_id: int, data: MeetingIn
) -> tuple[int, Meeting]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_meetings(membership, engagement))
    attendees = [person(membership, pk, "attendee_ids") for pk in data.attendee_ids]
    meeting = services.meeting_create(
        membership=membership,
        engagement=engagement,
        title=data.title,
        starts_at=data.starts_at,
        duration_minutes=data.duration_minutes,
        channel=data.channel,
        attendees=attendees,  # type: ignore[arg-type]
        location=data.location,
    )
    return 201, _meeting(request, engagement_id, meeting.pk)


@router.post(
    "/{engagement_id}/meetings/{meeting_id}/cancel",
    response=MeetingOut,
    summary="Cancel a planned meeting (either side; the notice given is recorded)",
)
def cancel_meeting(
    request: HttpRequest, engagement_id: int, meeting_id: int, data: CancelIn
) -> Meeting:
    membership = caller(request)
    meeting = _meeting(request, engagement_id, meeting_id)
    require(access.can_cancel_meeting(membership, meeting.engagement))
    services.meeting_cancel(membership=membership, meeting=meeting, reason=data.reason)
    return _meeting(request, engagement_id, meeting_id)


@router.post(
    "/{engagement_id}/meetings/{meeting_id}/attendance",
    response=MeetingOut,
    summary="Record a meeting held: each person's attendance and the minutes",
)
def record_meeting(
    request: HttpRequest, engagement_id: int, meeting_id: int, data: RecordIn
) -> Meeting:
    membership = caller(request)
    meeting = _meeting(request, engagement_id, meeting_id)
    require(access.can_manage_meetings(membership, meeting.engagement))
    services.meeting_record(
        membership=membership,
        meeting=meeting,
        attendance={row.user_id: row.attendance for row in data.attendance},
        minutes=data.minutes,
        internal_notes=data.internal_notes,
    )
    return _meeting(request, engagement_id, meeting_id)


# Payments ----------------------------------------------------------------------------------


class PaymentOut(Schema):
    id: int
    kind: PaymentKind
    label: str
    amount: Decimal
    currency: str
    issue_date: date
    due_date: date
    paid_date: date | None


class PaymentIn(Schema):
    kind: PaymentKind
    label: str = Field(..., max_length=200)
    amount: Decimal = Field(..., gt=0, max_digits=14, decimal_places=2)
    issue_date: date
    due_date: date


class PaidIn(Schema):
    paid_date: date


@router.get(
    "/{engagement_id}/payments",
    response=list[PaymentOut],
    summary="Deposits and invoices (the provider's people and the client's contacts)",
)
def list_payments(request: HttpRequest, engagement_id: int) -> list[Payment]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_see_payments(membership, engagement))
    return selectors.payment_list(fetched_by=membership, engagement=engagement)


@router.post(
    "/{engagement_id}/payments",
    response={201: PaymentOut},
    summary="Issue a deposit or an invoice (owner, finance)",
)
def create_payment(
    request: HttpRequest, engagement_id: int, data: PaymentIn
) -> tuple[int, Payment]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_payments(membership, engagement))
    return 201, services.payment_create(
        membership=membership,
        engagement=engagement,
        kind=data.kind,
        label=data.label,
        amount=data.amount,
        issue_date=data.issue_date,
        due_date=data.due_date,
    )


@router.post(
    "/{engagement_id}/payments/{payment_id}/paid",
    response=PaymentOut,
    summary="Record a payment received (owner, finance)",
)
def mark_paid(request: HttpRequest, engagement_id: int, payment_id: int, data: PaidIn) -> Payment:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_payments(membership, engagement))
    payment = selectors.payment_get(fetched_by=membership, engagement=engagement, pk=payment_id)
    return services.payment_mark_paid(
        membership=membership, payment=payment, paid_date=data.paid_date
    )


# Confirm or contest what the other side recorded -------------------------------------------


class ReviewOut(Schema):
    id: int
    subject: ReviewSubject
    side: Side = Field(..., description="The side that answers")
    what: str
    recorded_by: str
    recorded_at: datetime
    answer_by: datetime
    state: ReviewState
    answered_by: str | None
    answered_at: datetime | None
    reason: str
    resolution_note: str

    @staticmethod
    def resolve_what(obj: FactReview) -> str:
        return obj.shown_what

    @staticmethod
    def resolve_recorded_by(obj: FactReview) -> str:
        return obj.recorded_by.get_full_name()

    @staticmethod
    def resolve_answered_by(obj: FactReview) -> str | None:
        return obj.answered_by.get_full_name() if obj.answered_by else None


class ContestIn(Schema):
    reason: str


class ResolveIn(Schema):
    note: str = ""


def _review(request: HttpRequest, engagement_id: int, review_id: int) -> FactReview:
    engagement = engagement_for(request, engagement_id)
    return reviews.review_for(
        fetched_by=caller(request), engagement=engagement, review_id=review_id
    )


@router.get(
    "/{engagement_id}/reviews",
    response=list[ReviewOut],
    summary="What one side recorded about the other, and its answer (both sides)",
)
def list_reviews(request: HttpRequest, engagement_id: int) -> list[FactReview]:
    engagement = engagement_for(request, engagement_id)
    return list(reviews.reviews_of(fetched_by=caller(request), engagement=engagement))


@router.post(
    "/{engagement_id}/reviews/{review_id}/confirm",
    response=ReviewOut,
    summary="Confirm what the other side recorded (the side concerned)",
)
def confirm_review(request: HttpRequest, engagement_id: int, review_id: int) -> FactReview:
    membership = caller(request)
    review = _review(request, engagement_id, review_id)
    require(access.followup_side(membership, review.engagement) == review.side)
    return reviews.review_confirm(membership=membership, review=review)


@router.post(
    "/{engagement_id}/reviews/{review_id}/contest",
    response=ReviewOut,
    summary="Contest it with a reason: ledgered, both sides told, held out of trust",
)
def contest_review(
    request: HttpRequest, engagement_id: int, review_id: int, data: ContestIn
) -> FactReview:
    membership = caller(request)
    review = _review(request, engagement_id, review_id)
    require(access.followup_side(membership, review.engagement) == review.side)
    return reviews.review_contest(membership=membership, review=review, reason=data.reason)


@router.post(
    "/{engagement_id}/reviews/{review_id}/resolve",
    response=ReviewOut,
    summary="End a contest: withdraw it (the side concerned) or withdraw the record (the other)",
)
def resolve_review(
    request: HttpRequest, engagement_id: int, review_id: int, data: ResolveIn
) -> FactReview:
    membership = caller(request)
    review = _review(request, engagement_id, review_id)
    require(access.followup_side(membership, review.engagement) is not None)
    return reviews.review_resolve(membership=membership, review=review, note=data.note)


__all__ = ["Http404", "router"]
