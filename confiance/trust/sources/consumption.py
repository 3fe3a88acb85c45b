"""Facts from the consumption app: time logged (per person and day), budget notices and drift."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils.translation import gettext_noop

from confiance.trust.facts import Fact, model, read_once, url

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement


def time_rows(engagement: Engagement, since: datetime | None) -> Any:
    """The entries both time indicators read (prompt and late split them by delay)."""
    rows = model("consumption", "TimeEntry").objects.filter(engagement=engagement)
    rows = rows.exclude(kind="reversal")
    return rows.filter(created_at__gte=since) if since is not None else rows


def appended_time_rows(engagement: Engagement, indexes: range) -> Any:
    """The entries appended to the ledger at these indexes (each entry carries its index)."""
    rows = model("consumption", "TimeEntry").objects.filter(
        engagement=engagement, ledger_index__gte=indexes.start, ledger_index__lt=indexes.stop
    )
    return rows.exclude(kind="reversal")


@lru_cache(maxsize=1)
def _ledgered_delay_query() -> Any:
    """The rollups' ledgered late-logging delay (figures_load's late_logging_days), compiled once
    per process: read at every refresh that finds time logged."""
    from confiance.core.queries import Prepared

    return Prepared(
        lambda engagement: (
            model("consumption", "ConsumptionTotals")
            .objects.filter(engagement_id=engagement)
            .values_list("late_logging_days")
        ),
        engagement=int,
    )


def _ledgered_delay(engagement: Engagement) -> int | None:
    found = _ledgered_delay_query().rows(engagement=engagement.pk)  # one row at most
    return found[0][0] if found else None


SHARED_ROWS = 5000
"""Up to this many appended entries, the two time indicators share one read of them (a day's
entries); an import's are streamed by each, to keep the memory of an update small."""


def _entries(
    engagement: Engagement, rows: Any, late: bool, shared: tuple[Any, ...] | None = None
) -> Iterator[Fact]:
    """One fact per day logged, not per entry or person: splitting a day's time into six entries
    says nothing more about transparency than one entry (docs/trust.md, "Padding").

    `shared`: a key under which the prompt and the late indicator read `rows` once per refresh
    (each keeps its own by the delay, in the same order)."""
    # The ledgered threshold: changing the workspace's setting is a ledger fact, so no one
    # can move "logged late" without a trace.
    ledgered = read_once(("late_logging_days", engagement.pk), lambda: _ledgered_delay(engagement))
    threshold = engagement.workspace.late_logging_days if ledgered is None else ledgered
    link = url("consumption", engagement)
    key = "time_logged_late" if late else "time_logged_promptly"
    label = (
        gettext_noop("Time for %(day)s logged %(n)s days late")
        if late
        else gettext_noop("Time for %(day)s logged on time")
    )
    ordered = rows.order_by("created_at", "id").values_list("date", "created_at", "log_delay_days")
    found: Iterable[tuple[Any, datetime, int]]
    if shared is None:
        found = (
            ordered.filter(log_delay_days__gt=threshold)
            if late
            else ordered.filter(log_delay_days__lte=threshold)
        ).iterator(chunk_size=2000)
    else:
        every: list[tuple[Any, datetime, int]] = read_once(shared, lambda: list(ordered))
        found = (row for row in every if (row[2] > threshold) == late)
    for day, created, delay in found:
        yield Fact(
            key,
            created,
            0.0 if late else 1.0,
            1.0 if late else 0.0,
            label,
            link,
            "consumption.timeday",
            day.isoformat(),
            {"day": day.isoformat(), "n": delay},
        )


def time_logged_promptly(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _entries(engagement, time_rows(engagement, since), late=False)


def time_logged_late(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _entries(engagement, time_rows(engagement, since), late=True)


def _appended_key(engagement: Engagement, indexes: range) -> tuple[Any, ...] | None:
    if len(indexes) > SHARED_ROWS:
        return None
    return ("appended_time_rows", engagement.pk, indexes.start, indexes.stop)


def time_logged_promptly_appended(engagement: Engagement, indexes: range) -> Iterator[Fact]:
    rows = appended_time_rows(engagement, indexes)
    return _entries(engagement, rows, late=False, shared=_appended_key(engagement, indexes))


def time_logged_late_appended(engagement: Engagement, indexes: range) -> Iterator[Fact]:
    rows = appended_time_rows(engagement, indexes)
    return _entries(engagement, rows, late=True, shared=_appended_key(engagement, indexes))


def alert_rows(engagement: Engagement, since: datetime | None) -> Any:
    """The budget notices the four budget indicators read."""
    rows = model("consumption", "BudgetAlert").objects.filter(engagement=engagement)
    return rows.filter(created_at__gte=since) if since is not None else rows


def _alerts(engagement: Engagement, since: datetime | None) -> Iterator[Any]:
    return alert_rows(engagement, since).order_by("created_at", "id").iterator()


def checkpoint_rows(engagement: Engagement, since: datetime | None) -> Any:
    """The checkpoints that checkpoint_consistent proves since a moment."""
    rows = model("ledger", "Checkpoint").objects.filter(engagement=engagement)
    return rows.filter(created_at__gte=since) if since is not None else rows


def budget_threshold_shared(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    """50 % / 80 % told to both sides at once: transparency, but only when the budget is still
    expected to hold (a threshold crossed on the way to an overrun is not good news)."""
    link = url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level not in ("50", "80"):
            continue
        if alert.forecast_minutes is not None and alert.forecast_minutes > alert.budget_minutes:
            continue
        yield Fact(
            "budget_threshold_shared",
            alert.created_at,
            1.0,
            0.0,
            gettext_noop("%(level)s %% of the budget reached, told to both sides at once"),
            link,
            "consumption.budgetalert",
            str(alert.pk),
            {"level": alert.level},
        )


def overrun_announced_early(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    link = url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level == "forecast" and alert.consumed_minutes < alert.budget_minutes:
            yield Fact(
                "overrun_announced_early",
                alert.created_at,
                1.0,
                0.0,
                gettext_noop("Overrun forecast announced before the budget was consumed"),
                link,
                "consumption.budgetalert",
                str(alert.pk),
            )


def _forecast_before(engagement: Engagement, moment: datetime) -> bool:
    alerts = model("consumption", "BudgetAlert")
    return bool(
        alerts.objects.filter(
            engagement=engagement,
            level="forecast",
            created_at__lte=moment,
            consumed_minutes__lt=F("budget_minutes"),
        ).exists()
    )


def _exhausted(engagement: Engagement, since: datetime | None, announced: bool) -> Iterator[Fact]:
    link = url("consumption", engagement)
    for alert in _alerts(engagement, since):
        if alert.level != "100":
            continue
        if _forecast_before(engagement, alert.created_at) != announced:
            continue
        if announced:
            key, label = (
                "budget_exhausted_announced",
                gettext_noop("Budget consumed (overrun announced earlier)"),
            )
        else:
            key, label = (
                "overrun_unannounced",
                gettext_noop("Budget consumed without an earlier forecast alert"),
            )
        yield Fact(
            key, alert.created_at, 0.0, 1.0, label, link, "consumption.budgetalert", str(alert.pk)
        )


def overrun_unannounced(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _exhausted(engagement, since, announced=False)


def budget_exhausted_announced(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    return _exhausted(engagement, since, announced=True)


def checkpoint_consistent(engagement: Engagement, since: datetime | None) -> Iterator[Fact]:
    """Each checkpoint proved an extension of the previous one (+), or not (-, ten times worse)."""
    from confiance.ledger import merkle, selectors

    checkpoints = model("ledger", "Checkpoint").objects.filter(engagement=engagement)
    previous = None
    proved: set[str] = set()
    if since is not None:
        # A refresh reads again the checkpoints of its overlap: those whose fact is recorded
        # already are not proved again (the fact would be dropped as recorded), and the log's
        # older checkpoints are not read, only the one just below the first to prove.
        recent = list(
            checkpoints.filter(created_at__gte=since).order_by("size").values_list("pk", "size")
        )
        if not recent:
            return
        proved = set(
            model("trust", "TrustFact")
            .objects.filter(
                engagement=engagement,
                indicator="checkpoint_consistent",
                source_type="ledger.checkpoint",
                source_id__in=[str(pk) for pk, _size in recent],
            )
            .values_list("source_id", flat=True)
        )
        if len(proved) == len(recent):
            return
        previous = checkpoints.filter(size__lt=recent[0][1]).order_by("-size").first()
        checkpoints = checkpoints.filter(size__gte=recent[0][1])
    for checkpoint in checkpoints.order_by("size").iterator():
        if (
            previous is not None
            and (since is None or checkpoint.created_at >= since)
            and str(checkpoint.pk) not in proved
        ):
            try:
                _size, proof = selectors.consistency(
                    engagement=engagement, old=previous.size, new=checkpoint.size
                )
                good = merkle.verify_consistency(
                    previous.size,
                    checkpoint.size,
                    bytes(previous.root_hash),
                    bytes(checkpoint.root_hash),
                    proof,
                )
            except (ValueError, LookupError):
                good = False
            yield Fact(
                "checkpoint_consistent",
                checkpoint.created_at,
                1.0 if good else 0.0,
                0.0 if good else 10.0,
                gettext_noop("Ledger checkpoint %(size)s extends the previous one")
                if good
                else gettext_noop("Ledger checkpoint %(size)s does not extend the previous one"),
                url("consumption", engagement),
                "ledger.checkpoint",
                str(checkpoint.pk),
                {"size": checkpoint.size},
            )
        previous = checkpoint
