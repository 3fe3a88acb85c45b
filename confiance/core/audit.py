"""Append a row to the audit log; every service that writes calls this inside its transaction.

Other apps may listen to what is recorded (webhooks turn some verbs into events): a listener
runs inside the same transaction and must only queue work for after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from confiance.core.models import AuditEvent, User, Workspace

AuditListener = Callable[[AuditEvent, "models.Model | None"], None]
_LISTENERS: list[AuditListener] = []


def on_audit(listener: AuditListener) -> None:
    """Call `listener(event, target)` after each audit row is written (from an app's ready())."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def audit_record(
    *,
    verb: str,
    actor: User | None,
    workspace: Workspace | None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `verb` to `target` in `workspace`."""
    event = AuditEvent.objects.create(
        verb=verb,
        actor=actor,
        workspace=workspace,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
    for listener in _LISTENERS:
        listener(event, target)
    return event
