"""The events a workspace's tools can subscribe to, declared once, and how they are raised.

Most events come from the audit log (every service records its writes there): a listener turns
the verbs below into events. Facts no person records (a budget threshold crossed, a checkpoint
signed) are emitted by their services directly with `emit`.

Payloads are "thin" (Standard Webhooks' advice): the type, the time, and identifiers the
receiver reads through the API with its own token, so the API's access policy keeps deciding
what each tool may read. Every payload has the same `data` shape:
`{"workspace": slug, "object": {"type": ..., "id": ...}, "engagement_id": int|null,
"action": verb, "actor_id": int|null, ...extra}`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from confiance.core.models import AuditEvent

# type → what a person reads in the subscription form.
EVENT_TYPES: dict[str, Any] = {
    "time_entry.logged": gettext_lazy("Time logged"),
    "time_entry.corrected": gettext_lazy("Time entry corrected"),
    "budget.revised": gettext_lazy("Budget revised"),
    "budget.alert": gettext_lazy("Budget alert (a threshold crossed)"),
    "commitment.created": gettext_lazy("Commitment made"),
    "commitment.changed": gettext_lazy("Commitment changed (status, renegotiation)"),
    "meeting.changed": gettext_lazy("Meeting planned, changed, cancelled or recorded"),
    "payment.changed": gettext_lazy("Payment expected or paid"),
    "problem.raised": gettext_lazy("Problem raised"),
    "problem.changed": gettext_lazy("Problem event (acknowledged, escalated, resolved...)"),
    "closure.approved": gettext_lazy("Closure approved (approval for payment)"),
    "trust.alert": gettext_lazy("Trust alert"),
    "checkpoint.signed": gettext_lazy("Ledger checkpoint signed"),
    "engagement.changed": gettext_lazy("Engagement created or changed"),
}
# Sent only when asked for, to every endpoint: not subscribable.
PING = "webhook.ping"

# Audit verbs → event type; a verb not named here raises no event.
AUDIT_VERBS: dict[str, str] = {
    "time_entry.log": "time_entry.logged",
    "time_entry.correct": "time_entry.corrected",
    "budget.revise": "budget.revised",
    "commitment.create": "commitment.created",
    "commitment.status": "commitment.changed",
    "commitment.renegotiation.propose": "commitment.changed",
    "commitment.renegotiation.agree": "commitment.changed",
    "meeting.create": "meeting.changed",
    "meeting.update": "meeting.changed",
    "meeting.cancel": "meeting.changed",
    "meeting.record": "meeting.changed",
    "payment.create": "payment.changed",
    "payment.paid": "payment.changed",
    "problem.raised": "problem.raised",
    "closure.approve": "closure.approved",
    "trust.alert.open": "trust.alert",
    "engagement.create": "engagement.changed",
    "engagement.update": "engagement.changed",
    "engagement.status": "engagement.changed",
}
# Facts of the audit row passed on as they are (counts and states, never a person's data).
AUDIT_FACTS = ("count", "minutes", "status", "kind", "direction", "level", "side")
# Every other problem verb is a problem event (settings are not about one problem).
PROBLEM_PREFIX = "problem."


def event_type_for(verb: str) -> str | None:
    if verb in AUDIT_VERBS:
        return AUDIT_VERBS[verb]
    if verb.startswith(PROBLEM_PREFIX):
        return "problem.changed"
    return None


def payload_body(event_type: str, at: datetime, data: dict[str, Any]) -> str:
    """The message as sent and signed: minified JSON, keys sorted."""
    body = {"type": event_type, "timestamp": at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


def _engagement_id(target: models.Model | None) -> int | None:
    if target is None:
        return None
    if target._meta.label_lower == "engagements.engagement":
        return int(target.pk)
    value = getattr(target, "engagement_id", None)
    return int(value) if value is not None else None


def from_audit(event: AuditEvent, target: models.Model | None) -> None:
    """The audit listener: a write of a subscribed kind becomes an event."""
    event_type = event_type_for(event.verb)
    if event_type is None or event.workspace_id is None:
        return
    emit(
        workspace_id=event.workspace_id,
        event_type=event_type,
        obj=(event.object_type, event.object_id),
        engagement_id=_engagement_id(target),
        action=event.verb,
        actor_id=event.actor_id,
        at=event.created_at,
        extra={k: event.data[k] for k in AUDIT_FACTS if k in (event.data or {})},
    )


def emit(
    *,
    workspace_id: int,
    event_type: str,
    obj: tuple[str, str],
    engagement_id: int | None = None,
    action: str = "",
    actor_id: int | None = None,
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Queue the event for every active endpoint of the workspace subscribed to it (sent after
    the commit by the task worker); return how many deliveries were queued."""
    from confiance.webhooks.services import deliveries_create

    return deliveries_create(
        workspace_id=workspace_id,
        event_type=event_type,
        at=at or timezone.now(),
        data={
            "object": {"type": obj[0], "id": obj[1]},
            "engagement_id": engagement_id,
            "action": action or event_type,
            "actor_id": actor_id,
            **(extra or {}),
        },
    )


def render_disabled_notice(params: dict[str, Any]) -> str:
    from confiance.webhooks.services import disabled_reason_text

    reason = disabled_reason_text(str(params.get("reason", "")), int(params.get("count", 0)))
    return _("Webhook to %(url)s stopped: %(reason)s. Fix it, then enable it again.") % {
        "url": params.get("url", ""),
        "reason": reason,
    }
