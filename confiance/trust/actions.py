"""What the people who should act do with a trust alert: acknowledge, assign, snooze.

None of these closes an alert: it closes when its cause goes (services.trust_check_alerts),
with the outcome kept. A snooze puts the alert aside for a bounded time, with its reason, so
that an alert cannot be silenced for good. Only the provider's people act on alerts; the client
sees none of them (they are early warnings for those who should act: DESIGN.md, access.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.trust.models import TrustAlert

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
    """Put the alert aside for 1 to SNOOZE_MAX_DAYS days, saying why."""
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
    alert.save(update_fields=["snoozed_until", "snooze_reason"])
    audit_record(
        verb="trust.alert.snooze",
        actor=membership.user,
        workspace=membership.workspace,
        target=alert,
        data={"days": days},
    )
    return alert
