"""Every table of ours can be scoped to one workspace (the sharding plan by workspace_id, in
docs/scale.md): a model holds a workspace foreign key, or a required foreign key to a model that
does (a parent in the same workspace). Only the global tables below are outside any workspace."""

from __future__ import annotations

from django.apps import apps
from django.db import models

# Global on purpose (reference or per-person tables in the sharding plan), each with its reason.
GLOBAL = {
    "core.User": "a person may belong to several workspaces",
    "core.Workspace": "the tenant itself",
    "core.ScheduledJob": "the worker's periodic jobs, for the whole installation",
    "followup.CalendarFeed": "one person's calendar across their workspaces",
}


def _has_workspace(model: type[models.Model]) -> bool:
    return any(f.name == "workspace" and f.is_relation for f in model._meta.fields)


def _workspace_path(model: type[models.Model], depth: int = 3) -> bool:
    if _has_workspace(model):
        return True
    if depth == 0:
        return False
    return any(
        _workspace_path(field.related_model, depth - 1)
        for field in model._meta.fields
        if isinstance(field, models.ForeignKey)
        and not field.null
        and field.related_model is not None
        and field.related_model._meta.label not in GLOBAL
    )


def test_every_model_of_ours_reaches_its_workspace_or_is_declared_global() -> None:
    ours = [m for m in apps.get_models() if m.__module__.startswith("confiance.")]
    lacking = sorted(
        m._meta.label for m in ours if m._meta.label not in GLOBAL and not _workspace_path(m)
    )
    assert lacking == [], "give these a workspace foreign key (or declare them global, with why)"
    assert set(GLOBAL) <= {m._meta.label for m in ours}, "a global table was renamed or removed"
