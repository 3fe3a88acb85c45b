"""Rollups of the ledgered consumption facts, maintained by every write that appends them.

Each service that appends consumption facts to the ledger calls `rollups_apply` with the same
payloads, inside its transaction and under the log's row lock (so two writers never interleave):
the totals row and the per day / person / activity / delay cells move by the new facts alone,
in a constant number of queries whatever the size of the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q

from confiance.consumption.figures import Cell, Figures
from confiance.consumption.models import ConsumptionRollup, ConsumptionTotals
from confiance.core.queries import Prepared, build, columns
from confiance.engagements.models import Engagement

_SCALARS = (
    "consumed_minutes",
    "entry_count",
    "entry_rows",
    "minutes_per_day",
    "late_logging_days",
    "budget_days",
    "budget_amount",
    "budget_currency",
    "budget_index",
    "estimate_minutes",
    "estimate_index",
    "estimate_at",
    "rates",
    "titles",
    "activities",
)


def _figures_of(totals: ConsumptionTotals | None) -> Figures:
    figures = Figures()
    if totals is None:
        return figures
    for name in _SCALARS:
        setattr(figures, name, getattr(totals, name))
    figures.last_fact = totals.last_fact
    figures.size = 0 if totals.last_fact is None else totals.last_fact + 1
    # JSON fields are copied so that folding never mutates the loaded instance's values.
    figures.rates, figures.titles = dict(totals.rates), dict(totals.titles)
    figures.activities = dict(totals.activities)
    return figures


# Read on every view of the consumption page: compiled once per process (core.queries).
_TOTALS = Prepared(
    lambda engagement_id: ConsumptionTotals.objects.filter(engagement_id=engagement_id).values_list(
        *columns(ConsumptionTotals)
    ),
    engagement_id=int,
)
_CELLS = Prepared(
    lambda engagement_id: ConsumptionRollup.objects.filter(engagement_id=engagement_id).values_list(
        "dimension", "key", "minutes", "entries"
    ),
    engagement_id=int,
)


def figures_load(*, engagement: Engagement, cells: bool = True) -> Figures:
    """The engagement's figures as the rollups hold them (two queries)."""
    totals = None
    for row in _TOTALS.rows(engagement_id=engagement.pk):  # one row at most (one-to-one)
        totals, _at = build(ConsumptionTotals, row)
    figures = _figures_of(totals)
    if cells:
        for dimension, key, minutes, entries in _CELLS.rows(engagement_id=engagement.pk):
            if minutes or entries:  # a cell corrected back to nothing is nothing
                figures.cells[(dimension, key)] = Cell(int(minutes), int(entries))
    return figures


def rollups_apply(
    *, engagement: Engagement, facts: Iterable[tuple[int, str, dict[str, Any]]]
) -> Figures:
    """Fold newly appended facts (index, kind, leaf payload) into the engagement's rollups."""
    totals = ConsumptionTotals.objects.filter(engagement_id=engagement.pk).first()
    figures = _figures_of(totals)  # no cells: those fold as deltas
    for index, kind, payload in facts:
        figures.fold(index, kind, payload)
    values = {name: getattr(figures, name) for name in _SCALARS}
    values["last_fact"] = figures.last_fact
    if totals is None:
        ConsumptionTotals.objects.create(
            workspace_id=engagement.workspace_id, engagement_id=engagement.pk, **values
        )
    else:
        ConsumptionTotals.objects.filter(pk=totals.pk).update(**values)
    _merge_cells(engagement, figures.cells)
    return figures


def _merge_cells(engagement: Engagement, deltas: dict[tuple[str, str], Cell]) -> None:
    changed = {key: cell for key, cell in deltas.items() if cell.minutes or cell.entries}
    if not changed:
        return
    keys: Sequence[tuple[str, str]] = list(changed)
    existing: dict[tuple[str, str], ConsumptionRollup] = {}
    for start in range(0, len(keys), 300):  # short OR-chains for SQLite's expression depth
        condition = Q()
        for dimension, key in keys[start : start + 300]:
            condition |= Q(engagement_id=engagement.pk, dimension=dimension, key=key)
        for row in ConsumptionRollup.objects.filter(condition):
            existing[(row.dimension, row.key)] = row
    # One upsert with the new values: the same statements whether cells are new or not.
    rows = []
    for (dimension, key), delta in changed.items():
        before = existing.get((dimension, key))
        rows.append(
            ConsumptionRollup(
                workspace_id=engagement.workspace_id,
                engagement_id=engagement.pk,
                dimension=dimension,
                key=key,
                minutes=delta.minutes + (before.minutes if before else 0),
                entries=delta.entries + (before.entries if before else 0),
            )
        )
    ConsumptionRollup.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["engagement", "dimension", "key"],
        update_fields=["minutes", "entries"],
        batch_size=500,
    )


def rollups_rebuild(*, engagement: Engagement, figures: Figures) -> None:
    """Replace the engagement's rollups by figures folded from its whole ledger (repair)."""
    ConsumptionRollup.objects.filter(engagement_id=engagement.pk).delete()
    ConsumptionTotals.objects.filter(engagement_id=engagement.pk).delete()
    values = {name: getattr(figures, name) for name in _SCALARS}
    ConsumptionTotals.objects.create(
        workspace_id=engagement.workspace_id,
        engagement_id=engagement.pk,
        last_fact=figures.last_fact,
        **values,
    )
    _merge_cells(engagement, figures.cells)
