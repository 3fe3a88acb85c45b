"""What the people who should act do with a trust alert: acknowledge, assign, snooze, and take
the step it proposes (plan the review meeting).

None of these closes an alert: it closes when its cause goes (services.trust_check_alerts),
with the outcome kept. A snooze puts the alert aside for a bounded time, with its reason, so
that an alert cannot be silenced for good. Only the provider's people act on alerts; the client
sees none of them (they are early warnings for those who should act: DESIGN.md, access.py).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.trust.alerts import severity
from confiance.trust.models import TrustAlert

if TYPE_CHECKING:
    from confiance.followup.models import Meeting

SNOOZE_MAX_DAYS = 14
"""A snooze lasts at most this long; the alert (if its cause holds) is back in front after it."""


def _locked(membership: Membership, alert_id: int) -> TrustAlert:
    alert = (
        TrustAlert.objects.select_for_update()
        .select_related("engagement", "engagement__workspace")
        .filter(pk=alert_id, workspace_id=membership.workspace_id)
        .first()
    )
    if alert is None or not access.can_act_on_trust_alerts(membership, alert.engagement):
        raise PermissionDenied
    if alert.closed_at is not None:
        raise ValidationError(_("This alert is closed: its cause is gone."))
    return alert


@transaction.atomic
def trust_alert_acknowledge(
    *, membership: Membership, alert_id: int, now: datetime | None = None
) -> TrustAlert:
    """Say the alert was seen (by whom, when); taken by that person if nobody has it yet."""
    alert = _locked(membership, alert_id)
    alert.acknowledged_at = now or timezone.now()
    alert.acknowledged_by = membership.user
    if alert.assignee_id is None:
        alert.assignee = membership.user
    alert.save(update_fields=["acknowledged_at", "acknowledged_by", "assignee"])
    audit_record(
        verb="trust.alert.acknowledge",
        actor=membership.user,
        workspace=membership.workspace,
        target=alert,
    )
    return alert


@transaction.atomic
def trust_alert_assign(*, membership: Membership, alert_id: int, assignee: User) -> TrustAlert:
    """Give the alert to one of the provider's people on this workspace."""
    alert = _locked(membership, alert_id)
    if not access.is_internal(
        Membership.objects.filter(user=assignee, workspace_id=membership.workspace_id).first()
    ):
        raise ValidationError({"assignee": _("Choose someone of your firm.")})
    alert.assignee = assignee
    alert.save(update_fields=["assignee"])
    audit_record(
        verb="trust.alert.assign",
        actor=membership.user,
        workspace=membership.workspace,
        target=alert,
        data={"assignee": assignee.pk},
    )
    return alert


@transaction.atomic
def trust_alert_snooze(
    *,
    membership: Membership,
    alert_id: int,
    days: int,
    reason: str,
    now: datetime | None = None,
) -> TrustAlert:
    """Put the alert aside for 1 to SNOOZE_MAX_DAYS days, saying why: no notice until then
    unless it gets worse (alerts.WORSE_BY); shown after the alerts not snoozed."""
    alert = _locked(membership, alert_id)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if not 1 <= days <= SNOOZE_MAX_DAYS:
        errors["days"] = _("Snooze for 1 to %(max)s days.") % {"max": SNOOZE_MAX_DAYS}
    if not reason:
        errors["reason"] = _("Say why the alert can wait.")
    if errors:
        raise ValidationError(errors)
    alert.snoozed_until = (now or timezone.now()) + timedelta(days=days)
    alert.snooze_reason = reason[:300]
    alert.snooze_severity = severity(alert.kind, alert.reason_params)
    alert.save(update_fields=["snoozed_until", "snooze_reason", "snooze_severity"])
    audit_record(
        verb="trust.alert.snooze",
        actor=membership.user,
        workspace=membership.workspace,
        target=alert,
        data={"days": days},
    )
    return alert


REVIEW_MEETING_TITLE = gettext_lazy("Review meeting")
"""The title proposed for the meeting an alert calls for (seed 002's réunion de mise au point)."""
REVIEW_MEETING_AFTER = 3
"""Proposed this many working days ahead: soon, with time for both sides to make room."""
REVIEW_MEETING_HOUR = 10


def review_meeting_start(now: datetime | None = None) -> datetime:
    """REVIEW_MEETING_AFTER working days from today (Monday to Friday), at 10:00 local time."""
    day = timezone.localdate(now or timezone.now())
    left = REVIEW_MEETING_AFTER
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return timezone.make_aware(datetime.combine(day, time(REVIEW_MEETING_HOUR)))


@transaction.atomic
def trust_alert_meeting_plan(
    *,
    membership: Membership,
    alert_id: int,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    channel: str,
    attendees: list[User],
    location: str = "",
) -> Meeting:
    """Take the step an alert proposes: plan the review meeting through the follow-up (which
    tells both sides, with the iCalendar invitation) and record on the alert the step taken."""
    from confiance.followup.services import meeting_create

    alert = _locked(membership, alert_id)
    meeting = meeting_create(
        membership=membership,
        engagement=alert.engagement,
        title=title,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        channel=channel,
        attendees=attendees,
        location=location,
    )
    alert.step_meeting = meeting
    alert.step_taken_at = timezone.now()
    alert.step_taken_by = membership.user
    alert.save(update_fields=["step_meeting", "step_taken_at", "step_taken_by"])
    audit_record(
        verb="trust.alert.step",
        actor=membership.user,
        workspace=membership.workspace,
        target=alert,
        data={"meeting": meeting.pk, "starts_at": meeting.starts_at.isoformat()},
    )
    return meeting
