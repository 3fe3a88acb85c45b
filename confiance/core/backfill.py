"""Fill a new `workspace` column from each row's parent, in batches (for data migrations).

Works on the historical models a migration gets (`apps.get_model`), on SQLite and PostgreSQL:
one `UPDATE ... SET workspace_id = (SELECT workspace_id FROM parent ...)` per range of primary
keys, each in its own transaction when the migration is not atomic, so a table as large as the
ledger's nodes never holds a lock for long. Rows already set are left alone: a run stopped
half-way is resumed by running it again.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.db.models import OuterRef, Subquery

BATCH_ROWS = 10_000


def workspace_backfill(
    model: type[models.Model], parent: str, *, using: str = "default", batch: int | None = None
) -> int:
    """Set `workspace_id` of `model`'s rows that have none to their `parent`'s; rows set."""
    batch = batch or BATCH_ROWS
    related = model._meta.get_field(parent).related_model
    assert isinstance(related, type) and issubclass(related, models.Model)
    parents: models.QuerySet[Any] = related._base_manager.using(using)
    rows: models.QuerySet[Any] = model._base_manager.using(using)
    workspace_of_parent = Subquery(
        parents.filter(pk=OuterRef(f"{parent}_id")).values("workspace_id")[:1]
    )
    done = 0
    last = None
    while True:
        after = rows.filter(pk__gt=last) if last is not None else rows
        keys = list(after.order_by("pk").values_list("pk", flat=True)[:batch])
        if not keys:
            return done
        with transaction.atomic(using=using):
            done += rows.filter(
                pk__gte=keys[0], pk__lte=keys[-1], workspace_id__isnull=True
            ).update(workspace_id=workspace_of_parent)
        last = keys[-1]
