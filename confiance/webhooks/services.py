"""Webhooks: endpoints managed by the workspace's owner, deliveries queued on commit, attempts
made by the task worker with retries (exponential backoff), a replay, a ping, and automatic
disabling after repeated failures with a notice to the owners."""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Notice, Role
from confiance.core.taskqueue import enqueue_on_commit
from confiance.webhooks import outbound, signing
from confiance.webhooks.events import EVENT_TYPES, PING, payload_body
from confiance.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

# Why an endpoint stopped (stored as the code, shown in the reader's language).
REASON_GONE = "gone"
REASON_FAILURES = "failures"
REASON_PAUSED = "paused"


def disabled_reason_text(code: str, streak: int = 0) -> str:
    if code == REASON_GONE:
        return _("the receiver answered 410 Gone")
    if code == REASON_FAILURES:
        return _("%(count)d deliveries in a row failed") % {"count": streak}
    if code == REASON_PAUSED:
        return _("paused by an owner")
    return code


def _fernet() -> Fernet:
    # Secrets are encrypted under a key derived from SECRET_KEY, like the ledger's signing keys.
    digest = hashlib.sha256(b"confiance.webhooks.secret:" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """The endpoint's signing secret (`whsec_...`), for its owner and for signing."""
    return _fernet().decrypt(bytes(endpoint.encrypted_secret)).decode()


def _require(membership: Membership) -> None:
    if not access.can_manage_webhooks(membership):
        raise PermissionDenied


def _endpoint_of(membership: Membership, endpoint_id: int) -> WebhookEndpoint:
    _require(membership)
    endpoint = WebhookEndpoint.objects.filter(
        pk=endpoint_id, workspace_id=membership.workspace_id
    ).first()
    if endpoint is None:
        raise WebhookEndpoint.DoesNotExist
    return endpoint


def _clean(url: str, event_types: list[str]) -> tuple[str, list[str]]:
    errors: dict[str, str] = {}
    url = url.strip()
    try:
        _scheme, host, _port, _path = outbound.check_url(url)
    except ValueError:
        errors["url"] = _("Give an address starting with https:// (or http://).")
    else:
        if outbound.host_refused(host):
            errors["url"] = _("Webhooks may not reach private or local addresses.")
    if len(url) > 500:
        errors["url"] = _("This address is too long (500 characters at most).")
    chosen = sorted(set(event_types))
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        errors["event_types"] = _("Unknown event type: %(type)s.") % {"type": unknown[0]}
    elif not chosen:
        errors["event_types"] = _("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    return url, chosen


@transaction.atomic
def endpoint_create(
    *, membership: Membership, url: str, event_types: list[str], description: str = ""
) -> WebhookEndpoint:
    """Add an endpoint with a new signing secret; it receives the chosen events from now on."""
    _require(membership)
    url, event_types = _clean(url, event_types)
    endpoint = WebhookEndpoint.objects.create(
        workspace_id=membership.workspace_id,
        url=url,
        description=description.strip()[:200],
        event_types=event_types,
        encrypted_secret=_fernet().encrypt(signing.new_secret().encode()),
        created_by=membership.user,
    )
    audit_record(
        verb="webhook.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=endpoint,
        data={"url": url, "event_types": event_types},
    )
    return endpoint


@transaction.atomic
def endpoint_update(
    *,
    membership: Membership,
    endpoint_id: int,
    url: str,
    event_types: list[str],
    description: str = "",
    active: bool = True,
) -> WebhookEndpoint:
    """Change an endpoint; pausing stops its deliveries, enabling it again clears its failures."""
    endpoint = _endpoint_of(membership, endpoint_id)
    endpoint.url, endpoint.event_types = _clean(url, event_types)
    endpoint.description = description.strip()[:200]
    if active and not endpoint.is_active:
        endpoint.is_active = True
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failure_streak = 0
    elif not active and endpoint.is_active:
        endpoint.is_active = False
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = REASON_PAUSED
    endpoint.save(
        update_fields=[
            "url",
            "event_types",
            "description",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failure_streak",
        ]
    )
    audit_record(
        verb="webhook.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=endpoint,
        data={"url": endpoint.url, "event_types": endpoint.event_types, "active": active},
    )
    return endpoint


@transaction.atomic
def endpoint_remove(*, membership: Membership, endpoint_id: int) -> None:
    """Delete an endpoint and its delivery log."""
    endpoint = _endpoint_of(membership, endpoint_id)
    audit_record(
        verb="webhook.remove",
        actor=membership.user,
        workspace=membership.workspace,
        target=endpoint,
        data={"url": endpoint.url},
    )
    endpoint.delete()


def deliveries_create(
    *, workspace_id: int, event_type: str, at: datetime, data: dict[str, Any]
) -> int:
    """One delivery per active endpoint subscribed to `event_type`, sent after the commit.

    One query when the workspace has no endpoint (the common case): every audited write of a
    subscribable kind pays only that.
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(workspace_id=workspace_id, is_active=True)
        .select_related("workspace")
        .only("id", "event_types", "workspace__slug")
        if event_type in endpoint.event_types
    ]
    if not endpoints:
        return 0
    body = payload_body(event_type, at, {"workspace": endpoints[0].workspace.slug, **data})
    message_id = signing.new_message_id()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            workspace_id=workspace_id,
            endpoint=endpoint,
            message_id=message_id,
            event_type=event_type,
            body=body,
        )
        for endpoint in endpoints
    )
    for delivery in deliveries:
        _schedule(delivery.pk, 0)
    return len(deliveries)


@transaction.atomic
def endpoint_ping(*, membership: Membership, endpoint_id: int) -> WebhookDelivery:
    """Send a test event (`webhook.ping`) to the endpoint, even paused; see it in the log."""
    endpoint = _endpoint_of(membership, endpoint_id)
    now = timezone.now()
    body = payload_body(
        PING,
        now,
        {
            "workspace": membership.workspace.slug,
            "object": {"type": "webhooks.webhookendpoint", "id": str(endpoint.pk)},
            "engagement_id": None,
            "action": PING,
            "actor_id": membership.user_id,
        },
    )
    delivery = WebhookDelivery.objects.create(
        workspace_id=endpoint.workspace_id,
        endpoint=endpoint,
        message_id=signing.new_message_id(),
        event_type=PING,
        body=body,
        manual=True,
    )
    audit_record(
        verb="webhook.ping", actor=membership.user, workspace=membership.workspace, target=endpoint
    )
    _schedule(delivery.pk, 0)
    return delivery


@transaction.atomic
def delivery_replay(*, membership: Membership, delivery_id: int) -> WebhookDelivery:
    """Send a message again as it was (same `webhook-id`, so the receiver may recognise it)."""
    _require(membership)
    original = (
        WebhookDelivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, workspace_id=membership.workspace_id)
        .first()
    )
    if original is None:
        raise WebhookDelivery.DoesNotExist
    delivery = WebhookDelivery.objects.create(
        workspace_id=original.workspace_id,
        endpoint=original.endpoint,
        message_id=original.message_id,
        event_type=original.event_type,
        body=original.body,
        manual=True,
        replay_of=original,
    )
    audit_record(
        verb="webhook.replay",
        actor=membership.user,
        workspace=membership.workspace,
        target=original.endpoint,
        data={"delivery": original.pk, "message_id": original.message_id},
    )
    _schedule(delivery.pk, 0)
    return delivery


def _schedule(delivery_id: int, delay_seconds: float) -> None:
    """Queue an attempt after the commit, `delay_seconds` later where the backend can defer."""
    from confiance.webhooks.tasks import deliver_webhook

    task: Any = deliver_webhook
    if delay_seconds > 0 and task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    enqueue_on_commit(task, delivery_id)


def _retry_delay(attempts: int, retry_after: int | None) -> float | None:
    """Seconds before the next attempt after `attempts` failed ones; None when spent."""
    delays = settings.WEBHOOK_RETRY_DELAYS
    if attempts > len(delays):
        return None
    delay = float(delays[attempts - 1])
    if retry_after is not None:  # the receiver asked for a pause (429, 503): honour it, a day max
        delay = max(delay, float(min(retry_after, 86400)))
    # Jitter, so that receivers recovering from an outage are not hit all at once.
    return delay * random.uniform(1.0, 1.1)


def _disable(endpoint: WebhookEndpoint, reason: str, streak: int) -> None:
    """Stop the endpoint, and tell every owner of the workspace."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at=now, disabled_reason=reason
    )
    link = reverse("webhook-detail", kwargs={"ws": endpoint.workspace.slug, "pk": endpoint.pk})
    owners = Membership.objects.filter(workspace_id=endpoint.workspace_id, role=Role.OWNER)
    Notice.objects.bulk_create(
        Notice(
            workspace_id=endpoint.workspace_id,
            user_id=user_id,
            kind="webhook.disabled",
            params={"url": endpoint.url, "reason": reason, "count": streak},
            link=link,
            created_at=now,
        )
        for user_id in owners.values_list("user_id", flat=True)
    )
    audit_record(
        verb="webhook.disable",
        actor=None,
        workspace=endpoint.workspace,
        target=endpoint,
        data={"reason": reason, "failures": streak},
    )


def delivery_attempt(*, delivery_id: int) -> WebhookDelivery | None:
    """Make one attempt of a delivery (the task worker calls this), then record its outcome:
    delivered; retried later; or failed for good, which counts towards disabling the endpoint.
    No transaction is held while the request is under way."""
    delivery = (
        WebhookDelivery.objects.select_related("endpoint__workspace").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
        return delivery
    endpoint = delivery.endpoint
    if not endpoint.is_active and not delivery.manual:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            last_error="endpoint disabled",
            finished_at=timezone.now(),
            next_attempt_at=None,
        )
        return delivery
    body = delivery.body.encode()
    timestamp = int(timezone.now().timestamp())
    answer = outbound.post(
        endpoint.url,
        body,
        signing.headers(endpoint_secret(endpoint), delivery.message_id, timestamp, body),
    )
    with transaction.atomic():
        return _record_attempt(delivery, answer)


def _record_attempt(delivery: WebhookDelivery, answer: outbound.Answer) -> WebhookDelivery:
    now = timezone.now()
    endpoint = delivery.endpoint
    WebhookAttempt.objects.create(
        workspace_id=delivery.workspace_id,
        delivery=delivery,
        at=now,
        status_code=answer.status,
        error=answer.error[:300],
        answer=answer.body[:500],
        duration_ms=answer.duration_ms,
    )
    delivery.attempts += 1
    delivery.last_status_code = answer.status
    delivery.last_error = answer.error[:300]
    delivery.next_attempt_at = None
    fields = ["attempts", "last_status_code", "last_error", "next_attempt_at", "status"]
    if answer.status is not None and 200 <= answer.status < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.finished_at = now
        if not delivery.manual and endpoint.failure_streak:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failure_streak=0)
    elif answer.status == 410:  # the receiver wants no more: stop, as the specification says
        delivery.status = DeliveryStatus.FAILED
        delivery.finished_at = now
        if endpoint.is_active:
            _disable(endpoint, REASON_GONE, endpoint.failure_streak)
    else:
        delay = _retry_delay(delivery.attempts, answer.retry_after)
        if delay is not None:
            delivery.status = DeliveryStatus.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            _schedule(delivery.pk, delay)
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.finished_at = now
            if not delivery.manual and endpoint.is_active:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                    failure_streak=F("failure_streak") + 1
                )
                endpoint.refresh_from_db(fields=["failure_streak"])
                if endpoint.failure_streak >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
                    _disable(endpoint, REASON_FAILURES, endpoint.failure_streak)
    delivery.save(update_fields=[*fields, "finished_at"])
    return delivery
