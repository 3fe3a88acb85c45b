"""Writes of the follow-up: commitments and their renegotiations, meetings, payments, feeds.

Every commitment status change, every agreed renegotiation and every payment recorded paid is
appended to the engagement's ledger in the same transaction; reminders are sent by tasks.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from confiance import access
from confiance.core import limits
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Membership, Role, User
from confiance.core.notices import notify_on_commit
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement
from confiance.engagements.selectors import engagement_people
from confiance.engagements.services import engagement_require_not_ended
from confiance.engagements.stops import side_people
from confiance.followup.models import (
    LIVE_STATUSES,
    Attendance,
    CalendarFeed,
    Commitment,
    CommitmentRevision,
    CommitmentStatus,
    CommitmentStatusChange,
    Meeting,
    MeetingAttendee,
    MeetingChannel,
    MeetingReschedule,
    MeetingStatus,
    Payment,
    PaymentKind,
    Renegotiation,
    Side,
)
from confiance.followup.reviews import review_open
from confiance.followup.tasks import notify_renegotiation
from confiance.ledger.services import ledger_append

# Statuses a person may set by hand; "kept" becomes "kept late" after the due date, and
# "renegotiated" only comes from an agreed renegotiation.
SETTABLE_STATUSES = (CommitmentStatus.KEPT, CommitmentStatus.BROKEN, CommitmentStatus.WITHDRAWN)
MAX_MEETING_MINUTES = 24 * 60


def _ensure_same_workspace(membership: Membership, engagement: Engagement) -> None:
    if engagement.workspace_id != membership.workspace_id:
        raise PermissionDenied


def side_of_user(engagement: Engagement, user: User) -> str | None:
    """The side a person belongs to in this engagement: a provider person or a client contact."""
    roles = dict(
        user.memberships.filter(workspace_id=engagement.workspace_id).values_list(
            "role", "client_id"
        )
    )
    if any(role in INTERNAL_ROLES for role in roles):
        return Side.PROVIDER
    if roles.get(Role.CLIENT) == engagement.client_id:
        return Side.CLIENT
    return None


def _takes_part(engagement: Engagement, user: User) -> bool:
    """Whether the person is one of the engagement's people (engagements.selectors)."""
    return engagement_people(engagement=engagement).filter(pk=user.pk).exists()


def _check_owner(engagement: Engagement, side: str, owner: User) -> None:
    owner_side = side_of_user(engagement, owner)
    if owner_side is not None and not _takes_part(engagement, owner):
        raise ValidationError({"owner": _("Choose a person who takes part in this engagement.")})
    if side == Side.PROVIDER and owner_side != Side.PROVIDER:
        raise ValidationError(
            {"owner": _("A provider commitment is owned by someone of your firm.")}
        )
    if side == Side.CLIENT and owner_side != Side.CLIENT:
        raise ValidationError(
            {"owner": _("A client commitment is owned by a contact of this client.")}
        )


# Commitments -------------------------------------------------------------------------------


@transaction.atomic
def commitment_create(
    *,
    membership: Membership,
    engagement: Engagement,
    side: str,
    owner: User,
    text: str,
    due_date: date,
    at: datetime | None = None,
) -> Commitment:
    """Record a commitment of one side, with its owner and due date (version 1).

    `at`: when it was made; only the demo's story and tests set it (never user input)."""
    _ensure_same_workspace(membership, engagement)
    if side not in Side.values:
        raise ValidationError({"side": _("Choose a side.")})
    if not access.can_create_commitment(membership, engagement, side):
        raise PermissionDenied
    engagement_require_not_ended(engagement)
    if not text.strip():
        raise ValidationError({"text": _("Say what is committed to.")})
    if error := limits.date_error(due_date, engagement=engagement):
        raise ValidationError({"due_date": error})
    _check_owner(engagement, side, owner)
    now = at or timezone.now()
    commitment = Commitment.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        side=side,
        owner=owner,
        text=text.strip(),
        due_date=due_date,
        created_by=membership.user,
        created_at=now,
    )
    CommitmentRevision.objects.create(
        workspace_id=engagement.workspace_id,
        commitment=commitment,
        version=1,
        text=commitment.text,
        due_date=due_date,
        proposed_by=membership.user,
        created_at=now,
    )
    audit_record(
        verb="commitment.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=commitment,
        data={"side": side, "owner": owner.email, "due_date": due_date.isoformat()},
    )
    ledger_append(
        engagement=engagement,
        kind="commitment.create",
        payload={
            "commitment": commitment.pk,
            "side": side,
            "owner": owner.email,
            "text": commitment.text,
            "due_date": due_date.isoformat(),
        },
        actor=membership.user,
    )
    from django.urls import reverse

    link = reverse(
        "commitment-detail",
        kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "cid": commitment.pk},
    )
    # A promise is made to the other side: its people hear of it at once, with its due date.
    promised_to = set(_other_side_people(engagement, side)) - {membership.user_id, owner.pk}
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=promised_to,
        kind="commitment.made",
        params={
            "engagement": engagement.title,
            "owner": owner.get_full_name(),
            "text": commitment.text,
            "due_date": due_date.isoformat(),
        },
        link=link,
        at=at,
    )
    if owner.pk != membership.user_id:
        # What one side records about someone is shown to them at once: the owner learns of it.
        notify_on_commit(
            workspace_id=engagement.workspace_id,
            user_ids=[owner.pk],
            kind="commitment.created",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "text": commitment.text,
                "due_date": due_date.isoformat(),
            },
            link=link,
            at=at,
        )
    return commitment


def _other_side_people(engagement: Engagement, side: str) -> list[int]:
    """Who a side's commitment is made to: the people who answer for the other side."""
    return side_people(engagement, Side.CLIENT if side == Side.PROVIDER else Side.PROVIDER)


def _lock(commitment: Commitment) -> Commitment:
    return Commitment.objects.select_for_update().select_related("engagement").get(pk=commitment.pk)


def _record_status(
    *, commitment: Commitment, to_status: str, by: User, at: datetime, note: str = ""
) -> CommitmentStatusChange:
    from_status = commitment.status
    commitment.status = to_status
    commitment.status_changed_at = at
    commitment.status_changed_by = by
    commitment.save(update_fields=["status", "status_changed_at", "status_changed_by"])
    change = CommitmentStatusChange.objects.create(
        workspace_id=commitment.workspace_id,
        commitment=commitment,
        from_status=from_status,
        to_status=to_status,
        changed_by=by,
        changed_at=at,
        note=note,
    )
    ledger_append(
        engagement=commitment.engagement,
        kind="commitment.status",
        payload={
            "commitment": commitment.pk,
            "side": commitment.side,
            "from": from_status,
            "to": to_status,
            "due_date": commitment.due_date.isoformat(),
            "version": commitment.version,
        },
        actor=by,
    )
    return change


@transaction.atomic
def commitment_set_status(
    *,
    membership: Membership,
    commitment: Commitment,
    status: str,
    note: str = "",
    at: datetime | None = None,
) -> Commitment:
    """Mark a live commitment kept (on time or late, from today's date), broken or withdrawn.

    `at`: when it was; only the demo's story and tests set it (never user input)."""
    commitment = _lock(commitment)
    engagement = commitment.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_set_commitment_status(membership, engagement):
        raise PermissionDenied
    if status not in SETTABLE_STATUSES:
        raise ValidationError({"status": _("Choose kept, broken or withdrawn.")})
    if commitment.status not in LIVE_STATUSES:
        raise ValidationError(
            {
                "status": _("This commitment is already closed: %(status)s.")
                % {"status": commitment.get_status_display()}
            }
        )
    now = at or timezone.now()
    if status == CommitmentStatus.KEPT and timezone.localdate(now) > commitment.due_date:
        status = CommitmentStatus.KEPT_LATE
    change = _record_status(
        commitment=commitment, to_status=status, by=membership.user, at=now, note=note.strip()
    )
    if access.followup_side(membership, engagement) != commitment.side:
        # Recorded about the other side: that side confirms or contests it.
        review_open(
            engagement=engagement,
            side=commitment.side,
            recorded_by=membership.user,
            what=gettext_noop("Commitment “%(text)s” marked %(status)s"),
            what_params={"text": commitment.text[:120], "status": change.to_status},
            status_change=change,
            at=at,
        )
    else:
        # A side closing its own promise: the side it was made to hears of it at once.
        from django.urls import reverse

        notify_on_commit(
            workspace_id=engagement.workspace_id,
            user_ids=set(_other_side_people(engagement, commitment.side)) - {membership.user_id},
            kind="commitment.status",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "text": commitment.text[:120],
                "status": change.to_status,
                "due_date": commitment.due_date.isoformat(),
                "note": change.note,
            },
            link=reverse(
                "commitment-detail",
                kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "cid": commitment.pk},
            ),
            at=at,
        )
    # A pending renegotiation has no object once the commitment is closed.
    commitment.renegotiations.filter(state=Renegotiation.State.PENDING).update(
        state=Renegotiation.State.DECLINED, decided_by=membership.user, decided_at=now
    )
    audit_record(
        verb="commitment.status",
        actor=membership.user,
        workspace=membership.workspace,
        target=commitment,
        data={"status": status},
    )
    return commitment


@transaction.atomic
def renegotiation_propose(
    *,
    membership: Membership,
    commitment: Commitment,
    reason: str,
    new_due_date: date | None = None,
    new_text: str = "",
    at: datetime | None = None,
) -> Renegotiation:
    """The committed side asks for a new date and/or wording; the other side must agree.

    `at`: when it was asked; only the demo's story and tests set it (never user input)."""
    commitment = _lock(commitment)
    engagement = commitment.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_propose_renegotiation(membership, engagement, commitment.side):
        raise PermissionDenied
    errors: dict[str, str] = {}
    new_text = new_text.strip()
    if commitment.status not in LIVE_STATUSES:
        errors["reason"] = _("Only a commitment still to be kept can be renegotiated.")
    if new_due_date is None and not new_text:
        errors["new_due_date"] = _("Propose a new due date, a new wording, or both.")
    if new_due_date is not None and new_due_date == commitment.due_date and not new_text:
        errors["new_due_date"] = _("This is already the due date.")
    if not reason.strip():
        errors["reason"] = _("Say why the commitment should change.")
    if commitment.renegotiations.filter(state=Renegotiation.State.PENDING).exists():
        errors["reason"] = _("A renegotiation is already awaiting an answer.")
    if errors:
        raise ValidationError(errors)
    proposal = Renegotiation.objects.create(
        workspace_id=commitment.workspace_id,
        commitment=commitment,
        new_due_date=new_due_date,
        new_text=new_text,
        reason=reason.strip(),
        proposed_by=membership.user,
        proposed_at=at or timezone.now(),
    )
    audit_record(
        verb="commitment.renegotiation.propose",
        actor=membership.user,
        workspace=membership.workspace,
        target=proposal,
        data={"commitment": commitment.pk},
    )
    enqueue_on_commit(notify_renegotiation, proposal.pk, in_history=at is not None)
    return proposal


@transaction.atomic
def renegotiation_decide(
    *,
    membership: Membership,
    renegotiation: Renegotiation,
    agree: bool,
    at: datetime | None = None,
) -> Renegotiation:
    """The other side agrees (a new version of the commitment) or declines (nothing changes).

    `at`: when it answered; only the demo's story and tests set it (never user input)."""
    commitment = _lock(renegotiation.commitment)
    renegotiation = Renegotiation.objects.select_for_update().get(pk=renegotiation.pk)
    engagement = commitment.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_agree_renegotiation(membership, engagement, commitment.side):
        raise PermissionDenied
    if renegotiation.state != Renegotiation.State.PENDING:
        raise ValidationError(_("This renegotiation was already answered."))
    now = at or timezone.now()
    renegotiation.state = Renegotiation.State.AGREED if agree else Renegotiation.State.DECLINED
    renegotiation.decided_by = membership.user
    renegotiation.decided_at = now
    renegotiation.save(update_fields=["state", "decided_by", "decided_at"])
    audit_record(
        verb="commitment.renegotiation.agree" if agree else "commitment.renegotiation.decline",
        actor=membership.user,
        workspace=membership.workspace,
        target=renegotiation,
        data={"commitment": commitment.pk},
    )
    if not agree:
        return renegotiation
    commitment.version += 1
    if renegotiation.new_due_date is not None:
        commitment.due_date = renegotiation.new_due_date
    if renegotiation.new_text:
        commitment.text = renegotiation.new_text
    commitment.save(update_fields=["version", "due_date", "text"])
    CommitmentRevision.objects.create(
        workspace_id=commitment.workspace_id,
        commitment=commitment,
        version=commitment.version,
        text=commitment.text,
        due_date=commitment.due_date,
        reason=renegotiation.reason,
        proposed_by=renegotiation.proposed_by,
        agreed_by=membership.user,
        created_at=now,
    )
    ledger_append(
        engagement=engagement,
        kind="commitment.renegotiation",
        payload={
            "commitment": commitment.pk,
            "version": commitment.version,
            "text": commitment.text,
            "due_date": commitment.due_date.isoformat(),
            "reason": renegotiation.reason,
            "proposed_by": renegotiation.proposed_by.email,
            "agreed_by": membership.user.email,
        },
        actor=membership.user,
    )
    if commitment.status != CommitmentStatus.RENEGOTIATED:
        _record_status(
            commitment=commitment,
            to_status=CommitmentStatus.RENEGOTIATED,
            by=membership.user,
            at=now,
        )
    return renegotiation


# Meetings ----------------------------------------------------------------------------------


def _meeting_notify(
    meeting: Meeting,
    *,
    kind: str,
    user_ids: list[int],
    actor: User,
    at: datetime | None = None,
    **extra: object,
) -> None:
    """Tell the people expected (the actor aside) with an iCalendar request or cancellation."""
    from django.urls import reverse

    engagement = meeting.engagement
    params = {
        "engagement": engagement.title,
        "meeting_id": meeting.pk,
        "title": meeting.title,
        "starts_at": meeting.starts_at.isoformat(),
        "duration_minutes": meeting.duration_minutes,
        "channel": meeting.channel,
        "location": meeting.location,
        "sequence": meeting.sequence,
        "method": "CANCEL" if kind == "meeting.cancelled" else "REQUEST",
        "who": actor.get_full_name(),
        **extra,
    }
    notify_on_commit(
        workspace_id=meeting.workspace_id,
        user_ids=[pk for pk in user_ids if pk != actor.pk],
        kind=kind,
        params=params,
        link=reverse(
            "meeting-detail",
            kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "mid": meeting.pk},
        ),
        at=at,
    )


def _validate_attendees(engagement: Engagement, attendees: list[User]) -> dict[int, str]:
    sides = {}
    people = set(
        engagement_people(engagement=engagement)
        .filter(pk__in=[u.pk for u in attendees])
        .values_list("pk", flat=True)
    )
    for user in attendees:
        if user.pk not in people and side_of_user(engagement, user) is not None:
            raise ValidationError(
                {
                    "attendees": _("%(name)s does not take part in this engagement.")
                    % {"name": user.get_full_name()}
                }
            )
        side = side_of_user(engagement, user)
        if side is None:
            raise ValidationError(
                {
                    "attendees": _("%(name)s is neither of your firm nor a contact of this client.")
                    % {"name": user.get_full_name()}
                }
            )
        sides[user.pk] = side
    return sides


def _meeting_checked(
    engagement: Engagement,
    *,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    channel: str,
    attendees: list[User],
) -> dict[int, str]:
    """Each field error of a meeting planned or changed (all at once), else each attendee's side."""
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("A meeting needs a title.")
    if timezone.is_naive(starts_at):
        errors["starts_at"] = _("Give the time with its time zone.")
    if not 0 < duration_minutes <= MAX_MEETING_MINUTES:
        errors["duration_minutes"] = _("A meeting lasts between 1 minute and 24 hours.")
    if timezone.is_aware(starts_at) and (
        error := limits.date_error(timezone.localdate(starts_at), engagement=engagement)
    ):
        errors["starts_at"] = error
    if channel not in MeetingChannel.values:
        errors["channel"] = _("Choose a channel.")
    if not attendees:
        errors["attendees"] = _("Say who is expected.")
    if errors:
        raise ValidationError(errors)
    return _validate_attendees(engagement, attendees)


@transaction.atomic
def meeting_create(
    *,
    membership: Membership,
    engagement: Engagement,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    channel: str,
    attendees: list[User],
    location: str = "",
    at: datetime | None = None,
) -> Meeting:
    """Plan a meeting or visit with the people expected from both sides.

    `at`: when it was planned; only the demo's story and tests set it (never user input)."""
    _ensure_same_workspace(membership, engagement)
    if not access.can_manage_meetings(membership, engagement):
        raise PermissionDenied
    engagement_require_not_ended(engagement)
    sides = _meeting_checked(
        engagement,
        title=title,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        channel=channel,
        attendees=attendees,
    )
    meeting = Meeting.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        title=title.strip(),
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        channel=channel,
        location=location.strip(),
        created_by=membership.user,
        created_at=at or timezone.now(),
    )
    MeetingAttendee.objects.bulk_create(
        MeetingAttendee(
            workspace_id=engagement.workspace_id, meeting=meeting, user=u, side=sides[u.pk]
        )
        for u in attendees
    )
    audit_record(
        verb="meeting.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=meeting,
        data={"starts_at": starts_at.isoformat(), "attendees": [u.email for u in attendees]},
    )
    _meeting_notify(
        meeting,
        kind="meeting.planned",
        user_ids=[u.pk for u in attendees],
        actor=membership.user,
        at=at,
    )
    return meeting


@transaction.atomic
def meeting_update(
    *,
    membership: Membership,
    meeting: Meeting,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    channel: str,
    attendees: list[User],
    location: str = "",
) -> Meeting:
    """Change a planned meeting; a new time is kept as a reschedule (from, to, who, when) and
    attendance already recorded for people still expected is kept."""
    meeting = Meeting.objects.select_for_update().select_related("engagement").get(pk=meeting.pk)
    engagement = meeting.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_manage_meetings(membership, engagement):
        raise PermissionDenied
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(_("Only a planned meeting can be changed."))
    sides = _meeting_checked(
        engagement,
        title=title,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        channel=channel,
        attendees=attendees,
    )
    now = timezone.now()
    moved = starts_at != meeting.starts_at
    if moved:
        MeetingReschedule.objects.create(
            workspace_id=meeting.workspace_id,
            meeting=meeting,
            from_starts_at=meeting.starts_at,
            to_starts_at=starts_at,
            changed_by=membership.user,
            changed_at=now,
        )
        ledger_append(
            engagement=engagement,
            kind="meeting.reschedule",
            payload={
                "meeting": meeting.pk,
                "from": meeting.starts_at.isoformat(),
                "to": starts_at.isoformat(),
                "notice_minutes": int((meeting.starts_at - now).total_seconds() // 60),
            },
            actor=membership.user,
        )
    previous_start = meeting.starts_at
    meeting.title = title.strip()
    meeting.starts_at = starts_at
    meeting.duration_minutes = duration_minutes
    meeting.channel = channel
    meeting.location = location.strip()
    meeting.sequence += 1
    meeting.save(
        update_fields=["title", "starts_at", "duration_minutes", "channel", "location", "sequence"]
    )
    wanted = {u.pk for u in attendees}
    removed = list(meeting.attendees.exclude(user_id__in=wanted).values_list("user_id", flat=True))
    meeting.attendees.exclude(user_id__in=wanted).delete()
    present = set(meeting.attendees.values_list("user_id", flat=True))
    MeetingAttendee.objects.bulk_create(
        MeetingAttendee(
            workspace_id=engagement.workspace_id, meeting=meeting, user=u, side=sides[u.pk]
        )
        for u in attendees
        if u.pk not in present
    )
    audit_record(
        verb="meeting.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=meeting,
        data={"starts_at": starts_at.isoformat(), "attendees": sorted(u.email for u in attendees)},
    )
    _meeting_notify(
        meeting,
        kind="meeting.changed",
        user_ids=sorted(wanted),
        actor=membership.user,
        previous_starts_at=previous_start.isoformat() if moved else "",
    )
    if removed:
        _meeting_notify(
            meeting, kind="meeting.cancelled", user_ids=removed, actor=membership.user, reason=""
        )
    return meeting


@transaction.atomic
def meeting_cancel(
    *, membership: Membership, meeting: Meeting, reason: str = "", at: datetime | None = None
) -> Meeting:
    """Cancel a planned meeting; the cancelling side and the time (hence the notice) are kept.

    `at`: when it was cancelled; only the demo's story and tests set it (never user input)."""
    meeting = Meeting.objects.select_for_update().select_related("engagement").get(pk=meeting.pk)
    engagement = meeting.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_cancel_meeting(membership, engagement):
        raise PermissionDenied
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(_("Only a planned meeting can be cancelled."))
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = at or timezone.now()
    meeting.cancelled_by = membership.user
    meeting.cancelled_by_side = access.followup_side(membership, engagement) or ""
    meeting.cancel_reason = reason.strip()
    meeting.sequence += 1
    meeting.save(
        update_fields=[
            "status",
            "cancelled_at",
            "cancelled_by",
            "cancelled_by_side",
            "cancel_reason",
            "sequence",
        ]
    )
    _meeting_notify(
        meeting,
        kind="meeting.cancelled",
        user_ids=list(meeting.attendees.values_list("user_id", flat=True)),
        actor=membership.user,
        reason=meeting.cancel_reason[:1000],
        at=at,
    )
    audit_record(
        verb="meeting.cancel",
        actor=membership.user,
        workspace=membership.workspace,
        target=meeting,
        data={
            "side": meeting.cancelled_by_side,
            "notice_minutes": meeting.cancellation_notice_minutes,
        },
    )
    ledger_append(
        engagement=engagement,
        kind="meeting.cancel",
        payload={
            "meeting": meeting.pk,
            "starts_at": meeting.starts_at.isoformat(),
            "side": meeting.cancelled_by_side,
            "notice_minutes": meeting.cancellation_notice_minutes,
        },
        actor=membership.user,
    )
    return meeting


@transaction.atomic
def meeting_record(
    *,
    membership: Membership,
    meeting: Meeting,
    attendance: dict[int, str],
    minutes: str,
    internal_notes: str,
    held: bool = True,
    at: datetime | None = None,
) -> Meeting:
    """Record a meeting held: each expected person's attendance, the minutes, internal notes.

    `at`: when it was recorded; only the demo's story and tests set it (never user input)."""
    meeting = Meeting.objects.select_for_update().select_related("engagement").get(pk=meeting.pk)
    engagement = meeting.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_manage_meetings(membership, engagement):
        raise PermissionDenied
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("This meeting was cancelled."))
    now = at or timezone.now()
    if held and meeting.starts_at > now:
        raise ValidationError(_("A meeting can be recorded as held once it has started."))
    attendees = {a.user_id: a for a in meeting.attendees.select_related("user")}
    for user_id, value in attendance.items():
        if user_id not in attendees:
            raise ValidationError(_("Record attendance only for the people expected."))
        if value and value not in Attendance.values:
            raise ValidationError(_("Unknown attendance."))
    changed = []
    for user_id, value in attendance.items():
        attendee = attendees[user_id]
        if attendee.attendance != value:
            attendee.attendance = value
            attendee.recorded_at = now
            attendee.recorded_by = membership.user
            changed.append(attendee)
    MeetingAttendee.objects.bulk_update(changed, ["attendance", "recorded_at", "recorded_by"])
    recorder_side = access.followup_side(membership, engagement)
    for attendee in changed:
        if attendee.attendance and attendee.side != recorder_side:
            attendee.meeting = meeting
            review_open(
                engagement=engagement,
                side=attendee.side,
                recorded_by=membership.user,
                what=gettext_noop("%(name)s recorded as %(attendance)s at “%(title)s” (%(date)s)"),
                what_params={
                    "name": attendee.user.get_full_name(),
                    "attendance": attendee.attendance,
                    "title": meeting.title,
                    "date": timezone.localdate(meeting.starts_at).isoformat(),
                },
                attendee=attendee,
                at=at,
            )
    fields = ["minutes", "internal_notes"]
    meeting.minutes = minutes.strip()
    meeting.internal_notes = internal_notes.strip()
    first_time_held = held and meeting.status != MeetingStatus.HELD
    if first_time_held:
        meeting.status = MeetingStatus.HELD
        meeting.held_recorded_at = now
        meeting.held_recorded_by = membership.user
        fields += ["status", "held_recorded_at", "held_recorded_by"]
    meeting.save(update_fields=fields)
    audit_record(
        verb="meeting.record",
        actor=membership.user,
        workspace=membership.workspace,
        target=meeting,
        data={"attendance": {str(a.user_id): a.attendance for a in changed}},
    )
    if first_time_held or changed:
        ledger_append(
            engagement=engagement,
            kind="meeting.attendance",
            payload={
                "meeting": meeting.pk,
                "starts_at": meeting.starts_at.isoformat(),
                "status": meeting.status,
                "attendance": {
                    a.user.email: a.attendance
                    for a in meeting.attendees.select_related("user")
                    if a.attendance
                },
            },
            actor=membership.user,
        )
    return meeting


# Payments ----------------------------------------------------------------------------------


@transaction.atomic
def payment_create(
    *,
    membership: Membership,
    engagement: Engagement,
    kind: str,
    label: str,
    amount: Decimal,
    issue_date: date,
    due_date: date,
    at: datetime | None = None,
) -> Payment:
    """Issue a deposit or invoice to the client, in the workspace currency.

    `at`: when it was recorded; only the demo's story and tests set it (never user input)."""
    _ensure_same_workspace(membership, engagement)
    if not access.can_manage_payments(membership, engagement):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if kind not in PaymentKind.values:
        errors["kind"] = _("Choose deposit or invoice.")
    if not label.strip():
        errors["label"] = _("Give the payment a label.")
    if error := limits.money_error(amount):
        errors["amount"] = error
    elif amount <= 0:
        errors["amount"] = _("An amount must be positive.")
    if error := limits.date_error(issue_date, engagement=engagement):
        errors["issue_date"] = error
    if error := limits.date_error(due_date, engagement=engagement):
        errors["due_date"] = error
    elif due_date < issue_date:
        errors["due_date"] = _("The due date comes before the issue date.")
    if errors:
        raise ValidationError(errors)
    payment = Payment.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        kind=kind,
        label=label.strip(),
        amount=amount,
        currency=membership.workspace.currency,
        issue_date=issue_date,
        due_date=due_date,
        created_by=membership.user,
        created_at=at or timezone.now(),
    )
    audit_record(
        verb="payment.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=payment,
        data={"kind": kind, "amount": str(amount), "due_date": due_date.isoformat()},
    )
    from django.urls import reverse

    # The client pays: its contacts of the engagement learn of it, with the amount and due date.
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=engagement_people(engagement=engagement, side="client").values_list(
            "pk", flat=True
        ),
        kind="payment.issued",
        params={
            "engagement": engagement.title,
            "payment_kind": kind,
            "label": payment.label,
            "amount": str(amount),
            "currency": payment.currency,
            "issue_date": issue_date.isoformat(),
            "due_date": due_date.isoformat(),
        },
        link=reverse("followup", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
        + "#payments",
        at=at,
    )
    return payment


@transaction.atomic
def payment_mark_paid(
    *, membership: Membership, payment: Payment, paid_date: date, at: datetime | None = None
) -> Payment:
    """Record the day a payment was received; appended to the ledger with its promptness.

    `at`: when it was recorded; only the demo's story and tests set it (never user input)."""
    payment = Payment.objects.select_for_update().select_related("engagement").get(pk=payment.pk)
    engagement = payment.engagement
    _ensure_same_workspace(membership, engagement)
    if not access.can_manage_payments(membership, engagement):
        raise PermissionDenied
    if payment.paid_date is not None:
        raise ValidationError({"paid_date": _("This payment is already recorded as paid.")})
    now = at or timezone.now()
    if paid_date > timezone.localdate(now):
        raise ValidationError({"paid_date": _("A payment cannot be received in the future.")})
    if paid_date < payment.issue_date:
        raise ValidationError({"paid_date": _("The payment date comes before the issue date.")})
    payment.paid_date = paid_date
    payment.paid_recorded_by = membership.user
    payment.paid_recorded_at = now
    payment.save(update_fields=["paid_date", "paid_recorded_by", "paid_recorded_at"])
    review_open(
        engagement=engagement,
        side=Side.CLIENT,
        recorded_by=membership.user,
        what=gettext_noop("“%(label)s” recorded as paid on %(paid)s (due %(due)s)"),
        what_params={
            "label": payment.label,
            "paid": paid_date.isoformat(),
            "due": payment.due_date.isoformat(),
        },
        payment=payment,
        at=at,
    )
    audit_record(
        verb="payment.paid",
        actor=membership.user,
        workspace=membership.workspace,
        target=payment,
        data={"paid_date": paid_date.isoformat()},
    )
    ledger_append(
        engagement=engagement,
        kind="payment.paid",
        payload={
            "payment": payment.pk,
            "kind": payment.kind,
            "label": payment.label,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "due_date": payment.due_date.isoformat(),
            "paid_date": paid_date.isoformat(),
            "promptness_days": payment.promptness_days,
        },
        actor=membership.user,
    )
    return payment


# Calendar feed -----------------------------------------------------------------------------


def _hash_feed_token(token: str) -> str:
    # 256 random bits: a fast hash suffices, and the feed is fetched often.
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_regenerate(*, user: User) -> str:
    """A new secret feed token for the person (the old URL stops working); returned once."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={"token_hash": _hash_feed_token(token), "created_at": timezone.now()},
    )
    audit_record(verb="calendar_feed.regenerate", actor=user, workspace=None, target=user)
    return token


def calendar_feed_user(token: str) -> User | None:
    """The active person a feed token belongs to, or None."""
    if not token:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=_hash_feed_token(token))
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed.user
