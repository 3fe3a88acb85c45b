"""Append a row to the audit log; every service that writes calls this inside its transaction."""

from __future__ import annotations

from typing import Any

from django.db import models

from confiance.core.models import AuditEvent, User, Workspace


def audit_record(
    *,
    verb: str,
    actor: User | None,
    workspace: Workspace | None,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `verb` to `target` in `workspace`."""
    return AuditEvent.objects.create(
        verb=verb,
        actor=actor,
        workspace=workspace,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        data=data or {},
    )
