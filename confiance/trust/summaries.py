"""Each engagement's trust states in one row (TrustSummary), for the portfolio's ranking.

The portfolio ranks every engagement in reach on every view; reading each one's states (one row
per direction and dimension) was eight rows an engagement, 8,000 at 1,000 engagements. The
summary holds the same values in one row, written with the states by the trust refresh: each
item is [direction, dimension, positive, negative, at], the state's evidence as stored (not
decayed) with its time in integer microseconds since the epoch, so the ranking decays it to the
moment of the view (the start of its minute) with the very floats it got from the states
(timedelta.total_seconds() is the same integer division). The items are stored as JSON text:
the ranking keeps what it weighed in a minute by that text (trust/selectors.py).

Why not a stored risk the database could order by: the risk is a non-linear function of
evidence decayed to the moment of the view, each state from its own time, so two engagements
change places as time passes without any new fact (strong old evidence fades towards
uncertainty faster, in absolute terms, than weak recent evidence); the trend's window and the
alerts' snoozes move with the day too. A key stored at write time would rank by yesterday.

Works on the models a migration gets (`apps.get_model`) as on the app's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models, transaction

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
BATCH_ENGAGEMENTS = 500

StateRow = tuple[str, str, float, float, datetime]


def microseconds(at: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact)."""
    return (at - EPOCH) // MICROSECOND


def summary_states(rows: Iterable[StateRow]) -> list[list[Any]]:
    """The summary's items of some states, in a stable order."""
    return [
        [direction, dimension, float(positive), float(negative), microseconds(at)]
        for direction, dimension, positive, negative, at in sorted(rows, key=lambda r: r[:2])
    ]


def summary_text(rows: Iterable[StateRow]) -> str:
    """The summary's items of some states as the row holds them: compact JSON."""
    return json.dumps(summary_states(rows), separators=(",", ":"))


def _stored(summary_model: type[models.Model], rows: Iterable[StateRow]) -> Any:
    """The items as the model's column takes them: JSON text, or a list for the JSON column a
    migration before trust 0012 gets."""
    if isinstance(summary_model._meta.get_field("states"), models.JSONField):
        return summary_states(rows)
    return summary_text(rows)


STATE_COLUMNS = ("direction", "dimension", "positive", "negative", "at")


def summary_write(
    state_model: type[models.Model],
    summary_model: type[models.Model],
    *,
    engagement_id: int,
    workspace_id: int,
    using: str = "default",
) -> None:
    """Write one engagement's summary from its states (inside the writer's transaction, under
    the lock that makes it the one writer of those states)."""
    states = _stored(
        summary_model,
        state_model._base_manager.using(using)
        .filter(engagement_id=engagement_id)
        .values_list(*STATE_COLUMNS),
    )
    summaries = summary_model._base_manager.using(using)
    if not summaries.filter(engagement_id=engagement_id).update(states=states):
        summaries.create(engagement_id=engagement_id, workspace_id=workspace_id, states=states)


def summaries_fill(
    state_model: type[models.Model],
    summary_model: type[models.Model],
    *,
    engagement_ids: Iterable[int] | None = None,
    using: str = "default",
    batch: int = BATCH_ENGAGEMENTS,
) -> int:
    """(Re)write the summaries of some engagements (None: every one with states) from their
    states, a batch of engagements per transaction; the number written."""
    states = state_model._base_manager.using(using)
    summaries = summary_model._base_manager.using(using)
    if engagement_ids is None:
        ids = sorted(set(states.values_list("engagement_id", flat=True).distinct()))
    else:
        ids = sorted(set(engagement_ids))
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        grouped: dict[int, list[StateRow]] = {pk: [] for pk in chunk}
        workspaces: dict[int, int] = {}
        for engagement_id, workspace_id, *row in states.filter(engagement_id__in=chunk).values_list(
            "engagement_id", "workspace_id", *STATE_COLUMNS
        ):
            grouped[engagement_id].append(tuple(row))  # type: ignore[arg-type]
            workspaces[engagement_id] = workspace_id
        with transaction.atomic(using=using):
            summaries.filter(engagement_id__in=chunk).delete()
            summaries.bulk_create(
                [
                    summary_model(
                        engagement_id=pk,
                        workspace_id=workspaces[pk],
                        states=_stored(summary_model, grouped[pk]),
                    )
                    for pk in chunk
                    if pk in workspaces
                ]
            )
        written += len(workspaces)
    return written
