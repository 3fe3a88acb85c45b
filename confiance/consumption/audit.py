"""Reconciliation of the consumption tables and rollups with the engagement's ledger.

The ledger is the source of truth; tables and rollups are what the application reads. A row
changed behind the application's back (a time entry's minutes, a budget, an activity's name, a
rate, the workspace's minutes per day, a rollup cell) no longer matches the fact it stands for.
`ledger_audit` streams each ledger once, folds it (`figures.Figures`), compares every table row
with its leaf and the fold with the rollups, and stores what differs (`LedgerAudit`), which the
consumption page shows. Run by `confiance ledger-audit` and periodically by the scheduler.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from confiance.consumption.figures import ENTRY_KINDS, Cell, Figures, _value
from confiance.consumption.models import (
    Activity,
    BudgetRevision,
    LedgerAudit,
    Rate,
    RemainingEstimate,
    TimeEntry,
)
from confiance.consumption.rollups import figures_load
from confiance.core.models import Workspace
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.ledger.models import LedgerEntry, LedgerOpening

MAX_FINDINGS = 200
_CHUNK = 2000
_OPEN = (EngagementStatus.DRAFT, EngagementStatus.ACTIVE, EngagementStatus.PAUSED)


@dataclass
class AuditReport:
    """What the reconciliation of one engagement found; no finding means all agree."""

    engagement_id: int
    tree_size: int
    findings: list[dict[str, Any]] = field(default_factory=list)
    truncated: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, code: str, **params: Any) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append({"code": code, **{k: _plain(v) for k, v in params.items()}})
        else:
            self.truncated += 1


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (Decimal, int, float)) or isinstance(b, (Decimal, int, float)):
        try:
            return Decimal(str(a)) == Decimal(str(b))
        except ArithmeticError:
            return False
    return str(a) == str(b)


def _leaves(engagement: Engagement) -> Iterator[tuple[int, str, dict[str, Any]]]:
    rows = (
        LedgerEntry.objects.filter(engagement_id=engagement.pk)
        .order_by("index")
        .values_list("index", "kind", "data")
        .iterator(chunk_size=_CHUNK)
    )
    # Sealed fields (ledger/sealing.py) are folded with their openings, as the server holds them.
    openings: dict[int, dict[str, Any]] = {}
    for index, name, value in LedgerOpening.objects.filter(engagement_id=engagement.pk).values_list(
        "index", "field", "value"
    ):
        openings.setdefault(int(index), {})[name] = json.loads(value)
    for index, kind, data in rows:
        leaf = json.loads(data)
        if "sealed" in leaf:
            leaf = {k: v for k, v in leaf.items() if k != "sealed"} | openings.get(int(index), {})
        yield int(index), kind, leaf


def _entry_rows(engagement: Engagement) -> Iterator[tuple[Any, ...]]:
    return (
        TimeEntry.objects.filter(engagement_id=engagement.pk, ledger_index__isnull=False)
        .order_by("ledger_index")
        .values_list("ledger_index", "pk", "minutes", "date", "person__email", "activity__name")
        .iterator(chunk_size=_CHUNK)
    )


def _check_entry(report: AuditReport, row: tuple[Any, ...], leaf: dict[str, Any]) -> None:
    index, pk, minutes, day, email, activity = row
    ledgered = {
        "entry": leaf.get("entry"),
        "minutes": leaf.get("minutes"),
        "date": leaf.get("date"),
        "person": _value(leaf, "person"),
        "activity": leaf.get("activity"),
    }
    table = {
        "entry": pk,
        "minutes": minutes,
        "date": day.isoformat(),
        "person": email,
        "activity": activity,
    }
    for name, value in table.items():
        if (ledgered[name] is not None or name == "activity") and not _same(value, ledgered[name]):
            report.add(
                "entry_changed",
                entry=pk,
                index=index,
                field=name,
                table=value,
                ledger=ledgered[name],
            )


def _audit_one(engagement: Engagement) -> AuditReport:
    figures = Figures()
    report = AuditReport(engagement_id=engagement.pk, tree_size=0)
    rows = _entry_rows(engagement)
    row = next(rows, None)
    leaves_of: dict[str, dict[int, dict[str, Any]]] = {
        "budget.revised": {},
        "estimate.remaining": {},
        "activity.created": {},
    }
    for index, kind, leaf in _leaves(engagement):
        figures.fold(index, kind, leaf)
        if kind in leaves_of:
            leaves_of[kind][index] = leaf
        if kind not in ENTRY_KINDS:
            continue
        while row is not None and row[0] < index:
            report.add("entry_without_leaf", entry=row[1], index=row[0])
            row = next(rows, None)
        if row is not None and row[0] == index:
            _check_entry(report, row, leaf)
            row = next(rows, None)
        else:
            report.add("leaf_without_entry", index=index, entry=leaf.get("entry"))
    while row is not None:
        report.add("entry_without_leaf", entry=row[1], index=row[0])
        row = next(rows, None)
    report.tree_size = figures.size
    for pk in TimeEntry.objects.filter(
        engagement_id=engagement.pk, ledger_index__isnull=True
    ).values_list("pk", flat=True)[:MAX_FINDINGS]:
        report.add("entry_without_leaf", entry=pk, index=None)

    _check_rows(report, engagement, leaves_of, figures)
    _check_rollups(report, engagement, figures)
    return report


def _check_rows(
    report: AuditReport,
    engagement: Engagement,
    leaves_of: dict[str, dict[int, dict[str, Any]]],
    figures: Figures,
) -> None:
    budgets = leaves_of["budget.revised"]
    for index, days, amount in BudgetRevision.objects.filter(
        engagement_id=engagement.pk
    ).values_list("ledger_index", "days", "amount"):
        leaf = budgets.get(index) if index is not None else None
        if leaf is None:
            report.add("budget_without_leaf", index=index)
            continue
        for name, value in (("days", days), ("amount", amount)):
            ledgered = _value(leaf, name)
            if (ledgered is not None or value is not None) and not _same(value, ledgered):
                report.add("budget_changed", index=index, field=name, table=value, ledger=ledgered)
    estimates = leaves_of["estimate.remaining"]
    for index, minutes in RemainingEstimate.objects.filter(engagement_id=engagement.pk).values_list(
        "ledger_index", "remaining_minutes"
    ):
        leaf = estimates.get(index) if index is not None else None
        if leaf is not None and not _same(minutes, _value(leaf, "remaining_minutes")):
            report.add(
                "estimate_changed",
                index=index,
                table=minutes,
                ledger=_value(leaf, "remaining_minutes"),
            )
    for pk, name in Activity.objects.filter(engagement_id=engagement.pk).values_list("pk", "name"):
        ledgered = figures.activities.get(str(pk))
        if ledgered is not None and ledgered != name:
            report.add("activity_renamed", activity=pk, table=name, ledger=ledgered)
    for email, title, rate in Rate.objects.filter(engagement_id=engagement.pk).values_list(
        "user__email", "title", "daily_rate"
    ):
        key = f"person:{email}" if email else f"title:{title}"
        ledgered_rate = figures.rates.get(key)
        if ledgered_rate is None or not _same(rate, ledgered_rate):
            report.add("rate_changed", rate=key, table=rate, ledger=ledgered_rate)
    if (
        engagement.status in _OPEN
        and figures.minutes_per_day is not None
        and engagement.workspace.minutes_per_day != figures.minutes_per_day
    ):
        report.add(
            "minutes_per_day_changed",
            table=engagement.workspace.minutes_per_day,
            ledger=figures.minutes_per_day,
        )
    if (
        engagement.status in _OPEN
        and figures.late_logging_days is not None
        and engagement.workspace.late_logging_days != figures.late_logging_days
    ):
        report.add(
            "late_logging_days_changed",
            table=engagement.workspace.late_logging_days,
            ledger=figures.late_logging_days,
        )


def _check_rollups(report: AuditReport, engagement: Engagement, figures: Figures) -> None:
    stored = figures_load(engagement=engagement)
    for name in (
        "consumed_minutes",
        "entry_count",
        "minutes_per_day",
        "late_logging_days",
        "budget_days",
        "budget_amount",
        "estimate_minutes",
        "last_fact",
    ):
        if not _same(getattr(stored, name), getattr(figures, name)):
            report.add(
                "rollup_differs",
                figure=name,
                table=getattr(stored, name),
                ledger=getattr(figures, name),
            )
    for name in ("rates", "titles", "activities"):
        if getattr(stored, name) != getattr(figures, name):
            report.add("rollup_differs", figure=name, table="…", ledger="…")
    empty = Cell()
    for key in sorted(set(stored.cells) | set(figures.cells)):
        have, want = stored.cells.get(key, empty), figures.cells.get(key, empty)
        if (have.minutes, have.entries) != (want.minutes, want.entries):
            report.add(
                "rollup_differs",
                figure=f"{key[0]}:{key[1]}",
                table=have.minutes,
                ledger=want.minutes,
            )


def ledger_audit(
    *, engagements: Iterable[Engagement] | None = None, workspace: Workspace | None = None
) -> list[AuditReport]:
    """Reconcile each engagement's tables and rollups with its ledger; store and return findings.

    Without arguments, every engagement that has a ledger. Reads outside any long transaction;
    each engagement's result is stored in its own short one. Meant to run periodically.
    """
    if engagements is None:
        queryset = Engagement.objects.filter(ledger_head__isnull=False)
        if workspace is not None:
            queryset = queryset.filter(workspace=workspace)
        engagements = queryset.select_related("workspace").order_by("pk")
    reports = []
    for engagement in engagements:
        report = _audit_one(engagement)
        findings = report.findings
        if report.truncated:
            findings = [*findings, {"code": "more", "count": report.truncated}]
        with transaction.atomic():
            LedgerAudit.objects.update_or_create(
                engagement_id=engagement.pk,
                defaults={
                    "workspace_id": engagement.workspace_id,
                    "ran_at": timezone.now(),
                    "tree_size": report.tree_size,
                    "findings": findings,
                },
            )
        reports.append(report)
    return reports
