"""Follow-up of an engagement: reciprocal commitments, meetings with attendance, payments.

These rows are the facts the trust model reads (shared/DESIGN.md, "Trust model"), so each one
says explicitly *what* was promised or planned, *when* it was due, *when* its status changed and
*who* changed it. Nothing here is inferred from `updated_at`-style stamps:

- Commitment: a promise of one side (provider or client) by a named owner, with a due date.
  Its status moves open → kept / kept late / broken / withdrawn, or → renegotiated (still live,
  with a new agreed due date and/or text). "Kept" vs "kept late" is decided by the service from
  the day it was marked kept (`status_changed_at`, local date) against `due_date`. Every status
  change is a CommitmentStatusChange row (append-only) and a ledger entry. `reminder_due_date`
  is the due date for which the owner was last reminded: one reminder per overdue due date.
- CommitmentRevision: every version of a commitment's text and due date (version 1 at creation,
  one more per agreed renegotiation), append-only, with who proposed and who agreed.
- Renegotiation: a proposal (new date and/or text, with a reason) by the commitment's side that
  the other side agrees to or declines; `decided_by`/`decided_at` say who and when.
- Meeting: a meeting or visit with its start (aware datetime), duration in minutes, channel and
  status; a cancellation records the side that cancelled, who and when, so the notice given
  (hours before start) is computed, not typed. Internal notes never reach clients or experts.
- MeetingReschedule: a planned meeting moved (from, to, who, when), append-only.
- MeetingAttendee: a person expected at a meeting, their side, and their attendance, with who
  recorded it and when.
- Payment: a deposit or an invoice: amount (Decimal, in the workspace currency at issue), issue,
  due and paid dates, and who recorded the payment and when. Promptness = paid - due in days
  (negative = early).
- CalendarFeed: a person's secret iCalendar feed token, stored as a SHA-256 hash only.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from confiance.core.models import User, Workspace
from confiance.engagements.models import Engagement


class Side(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    CLIENT = "client", _("Client")


def other_side(side: str) -> str:
    return Side.CLIENT if side == Side.PROVIDER else Side.PROVIDER


class AppendOnlyMixin:
    """Rows that are history: saved once, never updated nor deleted."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:  # type: ignore[attr-defined]
            raise PermissionError("This history is append-only.")
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("This history is append-only.")


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("This history is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("This history is append-only.")


class CommitmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    KEPT_LATE = "kept_late", _("Kept late")
    BROKEN = "broken", _("Broken")
    RENEGOTIATED = "renegotiated", _("Renegotiated")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Statuses in which a commitment is still to be kept (and can become overdue).
LIVE_STATUSES = (CommitmentStatus.OPEN, CommitmentStatus.RENEGOTIATED)
# Closed for the "commitments kept" figure; a withdrawn commitment counts neither way.
CLOSED_STATUSES = (CommitmentStatus.KEPT, CommitmentStatus.KEPT_LATE, CommitmentStatus.BROKEN)


class Commitment(models.Model):
    """A promise by one side of the engagement, owned by a named person, due on a date."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="commitments")
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("owner")
    )
    text = models.TextField(_("commitment"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=16, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The due date the owner was last reminded of: one reminder per overdue due date.
    reminder_due_date = models.DateField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["engagement", "status"], name="commitment_eng_status"),
            models.Index(fields=["status", "due_date"], name="commitment_status_due"),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def is_overdue(self, today: Any = None) -> bool:
        return self.is_live and self.due_date < (today or timezone.localdate())


class CommitmentRevision(AppendOnlyMixin, models.Model):
    """One version of a commitment's text and due date; never edited."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    text = models.TextField()
    due_date = models.DateField()
    reason = models.TextField(blank=True)
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    agreed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("commitment version")
        verbose_name_plural = _("commitment versions")
        ordering = ["commitment", "version"]
        constraints = [
            models.UniqueConstraint(fields=["commitment", "version"], name="commitment_version")
        ]


class CommitmentStatusChange(AppendOnlyMixin, models.Model):
    """One status change of a commitment: from, to, who and when; never edited."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=16, choices=CommitmentStatus.choices)
    to_status = models.CharField(max_length=16, choices=CommitmentStatus.choices)
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["changed_at", "id"]


class Renegotiation(models.Model):
    """A proposed new due date and/or text for a commitment, awaiting the other side."""

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting agreement")
        AGREED = "agreed", _("Agreed")
        DECLINED = "declined", _("Declined")

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="renegotiations"
    )
    new_due_date = models.DateField(_("new due date"), null=True, blank=True)
    new_text = models.TextField(_("new wording"), blank=True)
    reason = models.TextField(_("reason"))
    proposed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment"],
                condition=models.Q(state="pending"),
                name="renegotiation_one_pending",
            )
        ]


class MeetingChannel(models.TextChoices):
    ON_SITE = "on_site", _("On-site visit")
    VIDEO = "video", _("Video call")
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("E-mail exchange")
    CHAT = "chat", _("Chat")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Meeting(models.Model):
    """A meeting or visit of the engagement, with its expected attendees."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    channel = models.CharField(_("channel"), max_length=10, choices=MeetingChannel.choices)
    location = models.CharField(_("place or link"), max_length=300, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    minutes = models.TextField(_("minutes (shared with the client)"), blank=True)
    internal_notes = models.TextField(_("internal notes (never shown to the client)"), blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    # Set once, when the meeting is recorded as held.
    held_recorded_at = models.DateTimeField(null=True, blank=True)
    held_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_by_side = models.CharField(max_length=10, choices=Side.choices, blank=True)
    cancel_reason = models.TextField(_("why"), blank=True)
    # iCalendar SEQUENCE of the invitation e-mailed to attendees: one more at each change or
    # cancellation, so calendars replace the event they hold (RFC 5546).
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["engagement", "starts_at"], name="meeting_eng_start")]

    def __str__(self) -> str:
        return self.title

    @property
    def ends_at(self) -> Any:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def cancellation_notice_minutes(self) -> int | None:
        """Notice given by the cancellation, in whole minutes (negative: after the start)."""
        if self.cancelled_at is None:
            return None
        return int((self.starts_at - self.cancelled_at).total_seconds() // 60)

    @property
    def cancellation_notice_hours(self) -> float | None:
        """How many hours before the start it was cancelled (negative: after it started)."""
        if self.cancelled_at is None:
            return None
        return round((self.starts_at - self.cancelled_at).total_seconds() / 3600, 1)


class MeetingReschedule(AppendOnlyMixin, models.Model):
    """A planned meeting moved to another time: from, to, who and when (a late move is a fact
    for the trust model, like a late cancellation); never edited."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reschedules")
    from_starts_at = models.DateTimeField()
    to_starts_at = models.DateTimeField()
    changed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["changed_at", "id"]

    @property
    def notice_hours(self) -> float:
        """How long before the original start the meeting was moved."""
        return round((self.from_starts_at - self.changed_at).total_seconds() / 3600, 1)


class Attendance(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    EXCUSED = "excused", _("Excused")


class MeetingAttendee(models.Model):
    """A person expected at a meeting, and whether they came."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, blank=True
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["side", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="attendee_once"),
        ]


class PaymentKind(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    INVOICE = "invoice", _("Invoice")


class Payment(models.Model):
    """A deposit or invoice the client owes, with its due date and the date it was paid."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="payments")
    kind = models.CharField(_("kind"), max_length=10, choices=PaymentKind.choices)
    label = models.CharField(_("label"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    paid_date = models.DateField(_("paid on"), null=True, blank=True)
    paid_recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_recorded_at = models.DateTimeField(null=True, blank=True)
    # When both sides were told it is overdue (once: a payment's due date does not move).
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["due_date", "id"]

    def __str__(self) -> str:
        return self.label

    @property
    def promptness_days(self) -> int | None:
        """Days between the due date and the payment; negative means paid early."""
        if self.paid_date is None:
            return None
        return (self.paid_date - self.due_date).days


class CalendarFeed(models.Model):
    """A person's secret calendar feed; only the SHA-256 of its token is stored."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)


# How long the side concerned has to confirm or contest what the other side recorded about it.
REVIEW_DAYS = 7


def render_what(what: str, params: dict[str, Any] | None) -> str:
    """A review's "what" in the active language: statuses by their label, dates in its format."""
    from datetime import date

    from django.utils import formats
    from django.utils.translation import gettext

    shown: dict[str, Any] = dict(params or {})
    if shown.get("status") in CommitmentStatus.values:
        shown["status"] = str(CommitmentStatus(shown["status"]).label).lower()
    if shown.get("attendance") in Attendance.values:
        shown["attendance"] = str(Attendance(shown["attendance"]).label).lower()
    for key in ("date", "paid", "due"):
        if isinstance(shown.get(key), str):
            with contextlib.suppress(ValueError):
                shown[key] = formats.date_format(date.fromisoformat(shown[key]), "DATE_FORMAT")
    try:
        return gettext(what) % shown if shown else gettext(what)
    except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder
        return what % (params or {}) if params else what


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Awaiting an answer")
    CONFIRMED = "confirmed", _("Confirmed")
    CONTESTED = "contested", _("Contested")
    UPHELD = "upheld", _("Contest withdrawn: the record stands")
    WITHDRAWN = "withdrawn", _("Record withdrawn by its author")
    SUPERSEDED = "superseded", _("Replaced by a later record")


class ReviewSubject(models.TextChoices):
    COMMITMENT = "commitment", _("Commitment status")
    ATTENDANCE = "attendance", _("Attendance")
    PAYMENT = "payment", _("Payment date")


class FactReview(models.Model):
    """What one side recorded about the other (their commitment kept or broken, their
    attendance, the day their payment arrived), shown to the side concerned, which confirms
    it or contests it with a reason within REVIEW_DAYS. Left unanswered, the record stands.

    A contest is ledgered and shown to both sides; until it is resolved (the contesting side
    withdraws its contest, or the recording side withdraws its record) the fact is held out
    of the trust evidence: `held_evidence()` in confiance.followup.reviews says which.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    engagement = models.ForeignKey(
        Engagement, on_delete=models.CASCADE, related_name="fact_reviews"
    )
    subject = models.CharField(max_length=12, choices=ReviewSubject.choices)
    # Exactly one of these, after `subject`.
    status_change = models.ForeignKey(
        CommitmentStatusChange, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    attendee = models.ForeignKey(
        MeetingAttendee, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews"
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="reviews"
    )
    side = models.CharField(max_length=10, choices=Side.choices)  # the side that answers
    # What was recorded, as a message id (gettext_noop) and its parameters, so each reader reads
    # it in their own language and date format (see render_what).
    what = models.CharField(max_length=300)
    what_params = models.JSONField(default=dict, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    answer_by = models.DateTimeField()
    state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("why you contest it"), blank=True)
    resolved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("review of a record")
        verbose_name_plural = _("reviews of records")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["engagement", "state"], name="review_eng_state")]

    def __str__(self) -> str:
        return self.shown_what

    @property
    def shown_what(self) -> str:
        """What was recorded, in the reader's language."""
        return render_what(self.what, self.what_params)

    @property
    def answerable(self) -> bool:
        """Still open to a confirmation or a contest."""
        return self.state == ReviewState.PENDING and timezone.now() < self.answer_by

    @property
    def let_stand(self) -> bool:
        return self.state == ReviewState.PENDING and timezone.now() >= self.answer_by

    @property
    def evidence_source(self) -> tuple[str, str]:
        """The trust fact this record feeds (source, id), as trust.indicators names them."""
        if self.subject == ReviewSubject.COMMITMENT:
            return ("followup.commitmentstatuschange", str(self.status_change_id))
        if self.subject == ReviewSubject.ATTENDANCE:
            return ("followup.meetingattendee", str(self.attendee_id))
        return ("followup.payment", str(self.payment_id))
