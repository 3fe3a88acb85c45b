"""Confirm or contest: what one side records about the other is shown to it, to answer.

Services (writes) and selectors (reads) of FactReview. A record about the other side (their
commitment marked kept or broken, their attendance, the day their payment arrived) opens a
review for the side concerned, which is told at once and may confirm it or contest it with a
reason within REVIEW_DAYS; left unanswered, the record stands. A contest is ledgered, shown to
both sides, and holds the fact out of the trust evidence until it is resolved: the contesting
side withdraws its contest (the record stands) or the recording side withdraws its record.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.core.notices import notify_on_commit
from confiance.core.queries import Prepared
from confiance.engagements.models import Engagement
from confiance.engagements.stops import engagement_people, side_people
from confiance.followup.models import (
    REVIEW_DAYS,
    CommitmentStatusChange,
    FactReview,
    MeetingAttendee,
    Payment,
    ReviewState,
    ReviewSubject,
)
from confiance.ledger.services import ledger_append

MAX_REASON_LENGTH = 2000

# States in which the fact is held out of the trust evidence.
HELD_STATES = (ReviewState.CONTESTED, ReviewState.WITHDRAWN)


def _link(engagement: Engagement) -> str:
    return reverse("followup", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})


def _tell(
    review: FactReview,
    kind: str,
    user_ids: list[int],
    actor: User,
    at: datetime | None = None,
    **extra: str,
) -> None:
    engagement = review.engagement
    notify_on_commit(
        workspace_id=review.workspace_id,
        user_ids=[pk for pk in user_ids if pk != actor.pk],
        kind=kind,
        params={
            "engagement": engagement.title,
            "what": review.what,
            "what_params": review.what_params,
            "who": actor.get_full_name(),
            "answer_by": review.answer_by.isoformat(),
            "days": REVIEW_DAYS,
            **extra,
        },
        link=_link(engagement) + "#reviews",
        at=at,
    )


def _both_sides(review: FactReview) -> list[int]:
    engagement = review.engagement
    ids = set(engagement_people(engagement))
    ids.add(review.recorded_by_id)
    if review.answered_by_id is not None:
        ids.add(review.answered_by_id)
    return sorted(ids)


def review_open(
    *,
    engagement: Engagement,
    side: str,
    recorded_by: User,
    what: str,
    what_params: dict[str, Any] | None = None,
    status_change: CommitmentStatusChange | None = None,
    attendee: MeetingAttendee | None = None,
    payment: Payment | None = None,
    at: datetime | None = None,
) -> FactReview:
    """Open a review of a record about `side`, and tell that side (called inside the write).

    `at`: the moment of a record made in history (the demo's story): the notice carries it."""
    subject = (
        ReviewSubject.COMMITMENT
        if status_change is not None
        else ReviewSubject.ATTENDANCE
        if attendee is not None
        else ReviewSubject.PAYMENT
    )
    if attendee is not None:
        # A later record of the same attendance replaces the one still awaiting an answer.
        FactReview.objects.filter(attendee=attendee, state=ReviewState.PENDING).update(
            state=ReviewState.SUPERSEDED
        )
    now = at or timezone.now()
    review = FactReview.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        subject=subject,
        status_change=status_change,
        attendee=attendee,
        payment=payment,
        side=side,
        what=what[:300],
        what_params=what_params or {},
        recorded_by=recorded_by,
        recorded_at=now,
        answer_by=now + timedelta(days=REVIEW_DAYS),
    )
    review.engagement = engagement
    _tell(review, "review.requested", side_people(engagement, side), recorded_by, at=at)
    return review


def _locked(review: FactReview) -> FactReview:
    return (
        FactReview.objects.select_for_update()
        .select_related("engagement__workspace")
        .get(pk=review.pk)
    )


def _ledger(review: FactReview, kind: str, actor: User, **payload: object) -> None:
    source, source_id = review.evidence_source
    ledger_append(
        engagement=review.engagement,
        kind=kind,
        payload={
            "review": review.pk,
            "subject": review.subject,
            "what": review.what,
            "what_params": review.what_params,
            "source": source,
            "source_id": source_id,
            **payload,
        },
        actor=actor,
    )


def _rebuild_trust_on_commit(engagement_id: int) -> None:
    """A held fact may already be counted: trust is rebuilt for the engagement after commit."""
    from confiance.followup.tasks import rebuild_trust_after_review

    transaction.on_commit(lambda: rebuild_trust_after_review.enqueue(engagement_id))


@transaction.atomic
def review_confirm(*, membership: Membership, review: FactReview) -> FactReview:
    """The side concerned confirms what the other side recorded about it."""
    review = _locked(review)
    if access.followup_side(membership, review.engagement) != review.side:
        raise PermissionDenied
    if not review.answerable:
        raise ValidationError(_("This record can no longer be answered."))
    review.state = ReviewState.CONFIRMED
    review.answered_by = membership.user
    review.answered_at = timezone.now()
    review.save(update_fields=["state", "answered_by", "answered_at"])
    audit_record(
        verb="review.confirm", actor=membership.user, workspace=membership.workspace, target=review
    )
    _ledger(review, "review.confirmed", membership.user)
    _tell(review, "review.confirmed", [review.recorded_by_id], membership.user)
    return review


@transaction.atomic
def review_contest(*, membership: Membership, review: FactReview, reason: str) -> FactReview:
    """The side concerned contests the record, with its reason; the fact is held from trust."""
    review = _locked(review)
    if access.followup_side(membership, review.engagement) != review.side:
        raise PermissionDenied
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you contest it.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Keep it under %(n)d characters.") % {"n": MAX_REASON_LENGTH}}
        )
    if not review.answerable:
        raise ValidationError(
            _("The %(days)d days to answer are over: the record stands.") % {"days": REVIEW_DAYS}
        )
    review.state = ReviewState.CONTESTED
    review.answered_by = membership.user
    review.answered_at = timezone.now()
    review.reason = reason
    review.save(update_fields=["state", "answered_by", "answered_at", "reason"])
    audit_record(
        verb="review.contest",
        actor=membership.user,
        workspace=membership.workspace,
        target=review,
        data={"reason": reason},
    )
    _ledger(review, "review.contested", membership.user, reason=reason)
    _tell(review, "review.contested", _both_sides(review), membership.user, reason=reason)
    _rebuild_trust_on_commit(review.engagement_id)
    return review


@transaction.atomic
def review_resolve(*, membership: Membership, review: FactReview, note: str = "") -> FactReview:
    """End a contest: the contesting side withdraws its contest (the record stands), or the
    recording side withdraws its record (the fact leaves the trust evidence for good)."""
    review = _locked(review)
    side = access.followup_side(membership, review.engagement)
    if side is None:
        raise PermissionDenied
    if review.state != ReviewState.CONTESTED:
        raise ValidationError(_("Only a contested record can be resolved."))
    state = ReviewState.UPHELD if side == review.side else ReviewState.WITHDRAWN
    review.state = state
    review.resolved_by = membership.user
    review.resolved_at = timezone.now()
    review.resolution_note = note.strip()[:MAX_REASON_LENGTH]
    review.save(update_fields=["state", "resolved_by", "resolved_at", "resolution_note"])
    audit_record(
        verb="review.resolve",
        actor=membership.user,
        workspace=membership.workspace,
        target=review,
        data={"state": state},
    )
    _ledger(review, "review.resolved", membership.user, state=state, note=review.resolution_note)
    _tell(
        review,
        "review.resolved",
        _both_sides(review),
        membership.user,
        state=state,
        note=review.resolution_note,
    )
    _rebuild_trust_on_commit(review.engagement_id)
    return review


# Selectors ---------------------------------------------------------------------------------


def reviews_of(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[FactReview]:
    """The reviews both sides see on the follow-up page (never other engagements')."""
    if access.followup_side(fetched_by, engagement) is None and not access.is_internal(fetched_by):
        raise Http404
    return (
        FactReview.objects.filter(engagement=engagement)
        .exclude(state=ReviewState.SUPERSEDED)
        .select_related("recorded_by", "answered_by", "resolved_by")
        .order_by("-recorded_at", "-id")
    )


def review_for(*, fetched_by: Membership, engagement: Engagement, review_id: int) -> FactReview:
    review = reviews_of(fetched_by=fetched_by, engagement=engagement).filter(pk=review_id).first()
    if review is None:
        raise Http404
    review.engagement = engagement
    return review


HELD_FIELDS = {
    "followup.commitmentstatuschange": "status_change_id",
    "followup.meetingattendee": "attendee_id",
    "followup.payment": "payment_id",
}


def held_evidence(engagement_id: int, source: str) -> set[str]:
    """Ids of the facts of `source` (as trust.indicators names them) held out of the trust
    evidence: contested and not yet resolved, or withdrawn by whoever recorded them."""
    return held_evidence_all(engagement_id)[source]


# Read at every trust refresh of every engagement: compiled once per process.
_HELD = Prepared(
    lambda engagement_id: FactReview.objects.filter(
        Q(engagement_id=engagement_id) & Q(state__in=HELD_STATES)
    ).values_list(*HELD_FIELDS.values()),
    engagement_id=int,
)


def held_evidence_all(engagement_id: int) -> dict[str, set[str]]:
    """held_evidence of every source at once (one query)."""
    held: dict[str, set[str]] = {source: set() for source in HELD_FIELDS}
    for row in _HELD.rows(engagement_id=engagement_id):
        for source, pk in zip(HELD_FIELDS, row, strict=True):
            if pk is not None:
                held[source].add(str(pk))
    return held
