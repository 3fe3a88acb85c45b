"""Every table of ours carries its workspace (DESIGN.md; the sharding plan by workspace_id, in
docs/scale.md): a model holds a required workspace foreign key of its own, not only through a
parent, so every query can name the workspace and the table can be distributed by it. Only the
global tables below are outside any workspace."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from confiance.core.models import Workspace

# Global on purpose (reference or per-person tables in the sharding plan), each with its reason.
GLOBAL = {
    "core.User": "a person may belong to several workspaces",
    "core.Workspace": "the tenant itself",
    "core.ScheduledJob": "the worker's periodic jobs, for the whole installation",
    "followup.CalendarFeed": "one person's calendar across their workspaces",
}
# Their workspace column may be empty, each with its reason.
MAY_BE_EMPTY = {"core.AuditEvent": "what no workspace owns (a log-in, an account) is audited too"}


def _carries_workspace(model: type[models.Model]) -> bool:
    return any(
        isinstance(f, models.ForeignKey)
        and f.name == "workspace"
        and f.related_model is Workspace
        and (not f.null or model._meta.label in MAY_BE_EMPTY)
        for f in model._meta.fields
    )


def test_every_model_of_ours_carries_its_workspace_or_is_declared_global() -> None:
    ours = [m for m in apps.get_models() if m.__module__.startswith("confiance.")]
    lacking = sorted(
        m._meta.label for m in ours if m._meta.label not in GLOBAL and not _carries_workspace(m)
    )
    assert lacking == [], "give these a workspace foreign key (or declare them global, with why)"
    assert set(GLOBAL) <= {m._meta.label for m in ours}, "a global table was renamed or removed"
