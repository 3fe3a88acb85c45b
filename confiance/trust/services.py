"""Writes of the trust model: recording facts (O(1) each), recomputing, snapshots, alerts, settings.

The trust state is derived data: `trust_update` and `trust_recompute` rebuild it from the other
apps' facts, so they write no audit row; a person's change (the settings) and alerts do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import cache
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import DateTimeField, Exists, PositiveBigIntegerField, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Workspace
from confiance.core.queries import Prepared, build, columns
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.ledger.models import LedgerHead
from confiance.trust import indicators
from confiance.trust.facts import Rows, one_read, overdue_before, probe_stand_ins, stood_since
from confiance.trust.facts import now as facts_now
from confiance.trust.models import (
    TrustAlert,
    TrustCursor,
    TrustFact,
    TrustSettings,
    TrustSnapshot,
    TrustState,
    TrustSummary,
    fact_rank,
)
from confiance.trust.opinion import DEFAULT_PRIOR_WEIGHT, Opinion, weighted_average
from confiance.trust.summaries import summary_write

BATCH = 500
# Sources are re-read from a little before the last run: a row written during the previous run
# (or with a clock slightly behind) is not missed; the unique fact key makes the overlap harmless.
OVERLAP = timedelta(days=2)
ACTIVE_STATUSES = (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)

StateKey = tuple[str, str]  # (direction, dimension)


def trust_settings_for(workspace: Workspace | int) -> TrustSettings:
    """The workspace's trust settings, or the defaults (unsaved) when the owner changed nothing."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    for row in _SETTINGS.rows(workspace_id=workspace_id):  # one row at most (one-to-one)
        found, _at = build(TrustSettings, row)
        assert found is not None
        return found
    return TrustSettings(workspace_id=workspace_id)


# Read by every page that shows trust (the engagement list's glance among them): compiled once
# per process (core.queries.Prepared).
_SETTINGS = Prepared(
    lambda workspace_id: TrustSettings.objects.filter(workspace_id=workspace_id).values_list(
        *columns(TrustSettings)
    ),
    workspace_id=int,
)


def base_rate_for(engagement: Engagement, settings: TrustSettings | None = None) -> float:
    """The prior of the engagement's opinions: from how the contact started, or, for a returning
    client, from its earlier engagements' final evidence, discounted (trust/carryover.py)."""
    from confiance.trust.carryover import carried_base_rate

    settings = settings or trust_settings_for(engagement.workspace_id)
    return carried_base_rate(engagement, settings, settings.base_rate(engagement.contact_origin))


# -- recording facts ---------------------------------------------------------------------------


# The refresh's fixed-shape reads, run for every engagement at every refresh: compiled once per
# process (core.queries.Prepared), building them cost more than running them.
_STATES = Prepared(
    lambda engagement: TrustState.objects.filter(engagement_id=engagement).values_list(
        *columns(TrustState)
    ),
    engagement=int,
)
_CURSOR = Prepared(
    lambda engagement: TrustCursor.objects.filter(engagement_id=engagement).values_list(
        "processed_until", "ledger_size"
    ),
    engagement=int,
)
_LEDGER_SIZE = Prepared(
    lambda engagement: LedgerHead.objects.filter(engagement_id=engagement).values_list("size"),
    engagement=int,
)
_WEEK_SUM = Prepared(
    lambda engagement, begin, end, indicator, source_type: (
        TrustFact.objects.filter(
            engagement_id=engagement,
            at__gte=begin,
            at__lt=end,
            indicator=indicator,
            source_type=source_type,
        )
        .order_by()
        .values("engagement_id")
        .annotate(total=Sum("positive"))
        .values_list("total")
    ),
    engagement=int,
    begin=datetime,
    end=datetime,
    indicator=str,
    source_type=str,
)


def states_of(engagement: Engagement) -> list[TrustState]:
    """The engagement's states (as `engagement.trust_states.all()`, in the same order)."""
    states = []
    for row in _STATES.rows(engagement=engagement.pk):
        state, _at = build(TrustState, row)
        assert state is not None
        states.append(state)
    return states


def _load_states(engagement: Engagement) -> dict[StateKey, TrustState]:
    return {(s.direction, s.dimension): s for s in states_of(engagement)}


def _add(
    states: dict[StateKey, TrustState],
    engagement: Engagement,
    key: StateKey,
    positive: float,
    negative: float,
    at: datetime,
    half_life: timedelta,
) -> None:
    """The O(1) update: r <- r * 2^(-dt/h) + dr (opinion.Evidence.add)."""
    state = states.get(key)
    if state is None:
        state = states[key] = TrustState(
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            direction=key[0],
            dimension=key[1],
            at=at,
        )
    evidence = state.evidence().add(positive, negative, at, half_life)
    state.positive, state.negative, state.at = evidence.positive, evidence.negative, evidence.at
    state.last_fact_at = at if state.last_fact_at is None else max(state.last_fact_at, at)
    state.facts += 1


def _save_states(states: Iterable[TrustState]) -> None:
    states = list(states)
    new = [s for s in states if s.pk is None]
    old = [s for s in states if s.pk is not None]
    TrustState.objects.bulk_create(new)
    fields = ["positive", "negative", "at", "last_fact_at", "facts"]
    if len(old) == 1:
        # What a daily refresh usually moves: one UPDATE either way, and this one does not build
        # bulk_update's CASE per field.
        TrustState.objects.filter(pk=old[0].pk).update(**{f: getattr(old[0], f) for f in fields})
    else:
        TrustState.objects.bulk_update(old, fields, batch_size=BATCH)


def _summarise(engagement: Engagement) -> None:
    """Write the engagement's summary row (the portfolio's one row) from its states; called in
    each transaction that changed them, under the cursor's lock."""
    summary_write(
        TrustState,
        TrustSummary,
        engagement_id=engagement.pk,
        workspace_id=engagement.workspace_id,
    )


class _WeekCounts:
    """How much positive evidence of an indicator (and source kind) a week already counted, in
    units of the indicator's weight, for Indicator.per_week: one sum query per week met."""

    def __init__(self, engagement: Engagement, settings: TrustSettings) -> None:
        self.engagement = engagement
        self.settings = settings
        self.sums: dict[tuple[str, str, date], float] = {}

    def counted(self, indicator: str, source_type: str, at: datetime) -> tuple[str, str, date]:
        day = timezone.localdate(at)
        start = day - timedelta(days=day.weekday())
        key = (indicator, source_type, start)
        if key not in self.sums:
            begin = datetime.combine(start, datetime.min.time(), tzinfo=at.tzinfo)
            found = _WEEK_SUM.rows(
                engagement=self.engagement.pk,
                begin=begin,
                end=begin + timedelta(days=7),
                indicator=indicator,
                source_type=source_type,
            )
            total = found[0][0] if found else None
            weight = self.settings.weight(indicator)
            self.sums[key] = (total or 0.0) / weight if weight > 0 else 0.0
        return key


def diminished_share(amount: float, before: float, cap: float) -> float:
    """What a positive amount counts when its week already counted `before` (same units): fully
    up to `cap`, then half, a quarter... of each further unit: a week's evidence of one kind
    grows only logarithmically past its cap, however many small facts are recorded."""
    if amount <= 0:
        return 0.0
    full = max(0.0, min(amount, cap - before))
    over = max(0.0, before - cap)
    return full + (amount - full) * 0.5 ** (1.0 + over)


def _diminished(
    indicator: indicators.Indicator, fact: indicators.Fact, weeks: _WeekCounts
) -> float:
    """The positive amount of the fact that counts (Indicator.per_week), in indicator units."""
    if indicator.per_week is None or fact.positive <= 0:
        return fact.positive
    key = weeks.counted(indicator.key, fact.source_type, fact.at)
    counted = diminished_share(fact.positive, weeks.sums[key], indicator.per_week)
    weeks.sums[key] += counted
    return counted


def _recorded_already(
    engagement: Engagement, batch: list[indicators.Fact]
) -> set[tuple[str, str, str]]:
    """The identities (indicator, source type, source id) of the batch's facts already recorded."""
    return set(
        # Every column of the unique index is constrained: a lookup, not a scan of the
        # engagement's facts (a first run may record 100,000 of them).
        TrustFact.objects.filter(
            engagement=engagement,
            indicator__in={f.indicator for f in batch},
            source_type__in={f.source_type for f in batch},
            source_id__in={f.source_id for f in batch},
        ).values_list("indicator", "source_type", "source_id")
    )


def _not_recorded(
    engagement: Engagement, facts: Iterable[indicators.Fact]
) -> list[indicators.Fact]:
    """The facts not recorded yet (each once), read batch by batch."""
    new: list[indicators.Fact] = []
    identities: set[tuple[str, str, str]] = set()
    iterator = iter(facts)
    while batch := list(islice(iterator, BATCH)):
        seen = _recorded_already(engagement, batch)
        for fact in batch:
            identity = (fact.indicator, fact.source_type, fact.source_id)
            if identity not in seen and identity not in identities:
                identities.add(identity)
                new.append(fact)
    return new


def _record(
    engagement: Engagement,
    facts: Iterable[indicators.Fact],
    settings: TrustSettings,
    states: dict[StateKey, TrustState],
) -> int:
    """Insert the facts not seen yet (batch by batch) and fold each into its state."""
    recorded = 0
    weeks = _WeekCounts(engagement, settings)
    iterator = iter(facts)
    while batch := list(islice(iterator, BATCH)):
        seen = _recorded_already(engagement, batch)
        rows = []
        for fact in batch:
            identity = (fact.indicator, fact.source_type, fact.source_id)
            if identity in seen:
                continue
            seen.add(identity)
            indicator = indicators.BY_KEY[fact.indicator]
            weight = settings.weight(fact.indicator)
            positive = _diminished(indicator, fact, weeks) * weight
            negative = fact.negative * weight
            rows.append(
                TrustFact(
                    workspace_id=engagement.workspace_id,
                    engagement=engagement,
                    direction=indicator.direction,
                    dimension=indicator.dimension,
                    indicator=fact.indicator,
                    at=fact.at,
                    positive=positive,
                    negative=negative,
                    label=fact.label[:300],
                    params=fact.params,
                    link=fact.link[:300],
                    source_type=fact.source_type,
                    source_id=fact.source_id,
                    rank=fact_rank(positive, negative, fact.at, settings.half_life),
                )
            )
            key = (indicator.direction, indicator.dimension)
            _add(states, engagement, key, positive, negative, fact.at, settings.half_life)
        TrustFact.objects.bulk_create(rows)
        recorded += len(rows)
    return recorded


@transaction.atomic
def trust_record_fact(*, engagement: Engagement, fact: indicators.Fact) -> bool:
    """Record one fact and update its state in O(1); False if it was recorded already."""
    settings = trust_settings_for(engagement.workspace_id)
    indicator = indicators.BY_KEY[fact.indicator]
    key = (indicator.direction, indicator.dimension)
    _lock_cursor(engagement)  # one writer of the engagement's states (and summary) at a time
    state = (
        TrustState.objects.select_for_update()
        .filter(engagement=engagement, direction=key[0], dimension=key[1])
        .first()
    )
    states = {key: state} if state is not None else {}
    recorded = _record(engagement, [fact], settings, states)
    if recorded:
        _save_states(states.values())
        _summarise(engagement)
    return bool(recorded)


@cache
def _probe_query(probes: tuple[Rows, ...]) -> Prepared:
    """The probes of these sources as one query, an `EXISTS` per source, compiled once per
    process (building eleven subqueries cost more than running them): the moments they compute
    from `since` and the clock are stand-ins (facts.probe_stand_ins)."""

    def make(
        engagement: int, since: datetime, stood: datetime, now: datetime, overdue_before: date
    ) -> Any:
        with probe_stand_ins(since=since, stood=stood, now=now, overdue_before=overdue_before):
            target = Engagement(pk=engagement)
            found = Engagement.objects.filter(pk=engagement).annotate(
                **{f"p{n}": Exists(probe(target, since)) for n, probe in enumerate(probes)}
            )
            return found.values_list(*(f"p{n}" for n in range(len(probes))))

    return Prepared(
        make,
        engagement=int,
        since=datetime,
        stood=datetime,
        now=datetime,
        overdue_before=date,
        # A set of probes may not ask every moment (one without payments has no due dates).
    ).may_leave_out("stood", "now", "overdue_before")


def _changed(
    engagement: Engagement, chosen: list[indicators.Indicator], since: datetime
) -> list[indicators.Indicator]:
    """The indicators whose source has rows since `since`: one query, an indexed `EXISTS` per
    source.

    A probe (`Indicator.changed`) covers every row its indicators' collectors read since that
    moment, so an indicator skipped here would have yielded nothing new: the refresh reads less
    and records the same facts. Indicators sharing a source share its probe.
    """
    probes = tuple(dict.fromkeys(i.changed for i in chosen if i.changed is not None))
    answers: dict[Any, bool] = {}
    if probes:
        found = _probe_query(probes).rows(
            engagement=engagement.pk,
            since=since,
            stood=stood_since(since),
            now=facts_now(),
            overdue_before=overdue_before(),
        )
        answers = {probe: bool(found and found[0][n]) for n, probe in enumerate(probes)}
    return [i for i in chosen if i.changed is None or answers[i.changed]]


def _collect(
    engagement: Engagement, since: datetime | None, appended: range | None = None
) -> Iterator[indicators.Fact]:
    """The facts of every source since `since` (None: all); with `appended`, the indicators that
    read ledger indexes (Indicator.appended) read only those indexes."""
    chosen = indicators.available_indicators()
    if since is not None and appended is not None:
        for indicator in chosen:
            if indicator.appended is not None and appended:
                yield from indicator.appended(engagement, appended)
        chosen = [indicator for indicator in chosen if indicator.appended is None]
    if since is not None:
        chosen = _changed(engagement, chosen, since)
    for indicator in chosen:
        yield from indicator.collect(engagement, since)


def _ledger_size(engagement: Engagement) -> int:
    """The engagement's ledger size now: every row appended below it has committed."""
    found = _LEDGER_SIZE.rows(engagement=engagement.pk)  # one row at most (one log)
    return int(found[0][0] or 0) if found else 0


def _lock_cursor(engagement: Engagement) -> TrustCursor:
    cursor, _created = TrustCursor.objects.select_for_update().get_or_create(
        engagement=engagement, defaults={"workspace_id": engagement.workspace_id}
    )
    return cursor


def trust_update(
    *, engagement: Engagement, now: datetime | None = None, settings: TrustSettings | None = None
) -> int:
    """Read the facts written since the last run and fold the new ones in; returns how many.

    The sources are read outside any transaction, so no write waits on the reading (on SQLite a
    transaction holds the one write lock); the new facts are then recorded in short transactions
    of BATCH facts, each checking again what is recorded and saving the states it moved, so two
    updates at once never count a fact twice and a stopped update leaves consistent states.
    """
    now = now or timezone.now()
    found = _CURSOR.rows(engagement=engagement.pk)  # one row at most (one cursor)
    processed_until, ledger_from = found[0] if found else (None, None)
    since = processed_until - OVERLAP if processed_until else None
    # Read before the sources: the rows appended below this size are all committed (appends to
    # the log are serialised by its lock), so the next update starts exactly here.
    ledger_to = _ledger_size(engagement)
    appended = range(ledger_from, ledger_to) if ledger_from is not None else None
    settings = settings or trust_settings_for(engagement.workspace_id)
    with one_read():
        new = _not_recorded(engagement, _collect(engagement, since, appended))
    recorded = 0
    for start in range(0, len(new), BATCH):
        with transaction.atomic():
            _lock_cursor(engagement)  # one writer of the engagement's states at a time
            states = _load_states(engagement)
            counts = {key: state.facts for key, state in states.items()}
            batch_recorded = _record(engagement, new[start : start + BATCH], settings, states)
            if batch_recorded:
                # Only the states a fact moved (each fact adds one to its state's count).
                _save_states(s for k, s in states.items() if s.facts != counts.get(k))
                _summarise(engagement)
            recorded += batch_recorded
    _advance_cursor(engagement, now, ledger_to)
    return recorded


def _advance_cursor(engagement: Engagement, now: datetime, ledger_to: int) -> None:
    """Move the cursor to `now` and `ledger_to`, never backwards: an update that read a smaller
    log (or began earlier) may finish after one that read more. One UPDATE, atomic by itself;
    the first update of an engagement creates the cursor under its lock."""
    moved = TrustCursor.objects.filter(engagement=engagement).update(
        processed_until=Greatest(
            Coalesce("processed_until", Value(now, output_field=DateTimeField())),
            Value(now, output_field=DateTimeField()),
        ),
        ledger_size=Greatest(
            Coalesce("ledger_size", Value(0, output_field=PositiveBigIntegerField())),
            Value(ledger_to, output_field=PositiveBigIntegerField()),
        ),
    )
    if moved:
        return
    with transaction.atomic():
        cursor = _lock_cursor(engagement)
        if cursor.processed_until is None or cursor.processed_until < now:
            cursor.processed_until = now
        cursor.ledger_size = max(cursor.ledger_size or 0, ledger_to)
        cursor.save(update_fields=["processed_until", "ledger_size"])


def _accumulate(engagement: Engagement, half_life: timedelta) -> dict[StateKey, TrustState]:
    """Fold the facts in time order: r <- r * 2^(-dt/h) + dr, with plain floats (fast path of
    opinion.Evidence.add for in-order events; the tests hold it equal to the incremental path)."""
    h = half_life.total_seconds()
    sums: dict[StateKey, list[Any]] = {}  # key -> [r, s, at, count]
    rows = (
        TrustFact.objects.filter(engagement=engagement)
        .order_by("at", "id")
        .values_list("direction", "dimension", "positive", "negative", "at")
    )
    for direction, dimension, positive, negative, at in rows.iterator(chunk_size=5000):
        acc = sums.get((direction, dimension))
        if acc is None:
            sums[(direction, dimension)] = [positive, negative, at, 1]
            continue
        factor = math.exp2(-(at - acc[2]).total_seconds() / h)
        acc[0] = acc[0] * factor + positive
        acc[1] = acc[1] * factor + negative
        acc[2] = at
        acc[3] += 1
    return {
        key: TrustState(
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            direction=key[0],
            dimension=key[1],
            positive=r,
            negative=s,
            at=at,
            last_fact_at=at,
            facts=count,
        )
        for key, (r, s, at, count) in sums.items()
    }


@transaction.atomic
def trust_recompute(*, engagement: Engagement) -> list[TrustState]:
    """Recompute every state of the engagement from its recorded facts, streaming them."""
    settings = trust_settings_for(engagement.workspace_id)
    states = _accumulate(engagement, settings.half_life)
    _lock_cursor(engagement)
    TrustState.objects.filter(engagement=engagement).delete()
    TrustState.objects.bulk_create(list(states.values()))
    _summarise(engagement)
    return list(states.values())


def trust_rebuild(*, engagement: Engagement) -> int:
    """Forget the engagement's facts and read every source again (after the weights changed, or
    a contest held or released a fact); returns how many facts are recorded.

    As in trust_update, the sources are read outside any transaction (seconds on a large
    engagement, and on SQLite a transaction holds the one write lock). The swap (forget, record,
    move the cursor) is one transaction under the cursor's lock, so a reader sees the old figures
    or the new ones, never none. Facts written while the sources were read are picked up by the
    next update: the cursor says when the reading began.
    """
    began = timezone.now()
    ledger_to = _ledger_size(engagement)
    facts: list[indicators.Fact] = []
    identities: set[tuple[str, str, str]] = set()
    with one_read():
        for fact in _collect(engagement, None):
            identity = (fact.indicator, fact.source_type, fact.source_id)
            if identity not in identities:
                identities.add(identity)
                facts.append(fact)
    settings = trust_settings_for(engagement.workspace_id)
    with transaction.atomic():
        cursor = _lock_cursor(engagement)
        TrustFact.objects.filter(engagement=engagement).delete()
        TrustState.objects.filter(engagement=engagement).delete()
        states: dict[StateKey, TrustState] = {}
        recorded = _record(engagement, facts, settings, states)
        _save_states(states.values())
        _summarise(engagement)
        cursor.processed_until = began
        cursor.ledger_size = ledger_to
        cursor.save(update_fields=["processed_until", "ledger_size"])
    return recorded


# -- opinions ----------------------------------------------------------------------------------


def overall_of(opinions: dict[StateKey, Opinion], direction: str, base_rate: float) -> Opinion:
    """A direction's overall opinion: the weighted average of its dimensions' opinions.

    Dimensions answer different questions, so their evidence is not pooled (cumulative fusion
    would make the overall figure surer than every dimension): the average lies between the
    lowest and highest dimension, and a dimension without evidence keeps its full uncertainty.
    """
    vacuous = Opinion.vacuous(base_rate)
    return weighted_average(
        (opinions.get((direction, d), vacuous), indicators.DIMENSION_WEIGHTS[d])
        for d in indicators.dimensions_of(direction)
    )


def opinions_of(
    states: Iterable[TrustState], base_rate: float, half_life: timedelta, now: datetime
) -> dict[StateKey, Opinion]:
    """Each state's opinion as of `now`, plus ("<dir>", "overall") from the dimensions'."""
    result: dict[StateKey, Opinion] = {}
    for state in states:
        evidence = state.evidence_at(now, half_life)
        result[(state.direction, state.dimension)] = evidence.opinion(
            base_rate, DEFAULT_PRIOR_WEIGHT
        )
    for direction in indicators.DIRECTIONS:
        result[(direction, indicators.OVERALL)] = overall_of(result, direction, base_rate)
    return result


# -- snapshots ---------------------------------------------------------------------------------


def _snapshot_rows(
    engagement: Engagement, day: date, opinions: dict[StateKey, Opinion]
) -> list[TrustSnapshot]:
    return [
        TrustSnapshot(
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            day=day,
            direction=direction,
            dimension=dimension,
            belief=o.belief,
            disbelief=o.disbelief,
            uncertainty=o.uncertainty,
            base_rate=o.base_rate,
            projected=o.projected(),
        )
        for (direction, dimension), o in opinions.items()
    ]


def trust_opinions_now(
    *, engagement: Engagement, settings: TrustSettings, now: datetime
) -> dict[StateKey, Opinion]:
    """The engagement's opinions as of `now` (its states, its base rate): two queries, read once
    by the refresh for both the day's snapshot and the alert check."""
    return opinions_of(
        states_of(engagement), base_rate_for(engagement, settings), settings.half_life, now
    )


def _write_snapshot(engagement: Engagement, day: date, opinions: dict[StateKey, Opinion]) -> int:
    """Replace the engagement's snapshot of `day` (call inside a transaction)."""
    TrustSnapshot.objects.filter(engagement=engagement, day=day).delete()
    return len(TrustSnapshot.objects.bulk_create(_snapshot_rows(engagement, day, opinions)))


def trust_snapshot_daily(*, day: date | None = None, workspace: Workspace | None = None) -> int:
    """Write (or rewrite) the day's snapshot of every active engagement; returns rows written."""
    now = timezone.now()
    day = day or timezone.localdate(now)
    engagements = Engagement.objects.filter(status__in=ACTIVE_STATUSES)
    if workspace is not None:
        engagements = engagements.filter(workspace=workspace)
    settings_by_ws: dict[int, TrustSettings] = {}
    written = 0
    for engagement in engagements.iterator(chunk_size=200):
        settings = settings_by_ws.setdefault(
            engagement.workspace_id, trust_settings_for(engagement.workspace_id)
        )
        opinions = trust_opinions_now(engagement=engagement, settings=settings, now=now)
        with transaction.atomic():
            written += _write_snapshot(engagement, day, opinions)
    return written


def trust_snapshot_and_check(
    *, engagement: Engagement, settings: TrustSettings, day: date, now: datetime
) -> tuple[int, list[TrustAlert], int]:
    """The refresh's day for one engagement: its snapshot of `day` and its alert check, from one
    reading of its opinions and in one transaction; returns (rows written, opened, closed).

    The alert check reads the snapshots of the days before `day` only, so writing today's first
    changes nothing it sees.
    """
    opinions = trust_opinions_now(engagement=engagement, settings=settings, now=now)
    with transaction.atomic():
        written = _write_snapshot(engagement, day, opinions)
        opened, closed = _check_alerts(engagement, now, settings, opinions)
    return written, opened, closed


def trust_backfill_snapshots(*, engagement: Engagement, until: datetime | None = None) -> int:
    """Weekly snapshots from the first fact to `until`, for days that have none (streaming)."""
    until = until or timezone.now()
    settings = trust_settings_for(engagement.workspace_id)
    base_rate = base_rate_for(engagement, settings)
    existing = set(engagement.trust_snapshots.values_list("day", flat=True).distinct())
    states: dict[StateKey, TrustState] = {}
    rows: list[TrustSnapshot] = []
    next_sample: datetime | None = None

    def sample(moment: datetime) -> None:
        day = timezone.localdate(moment)
        if day not in existing:
            rows.extend(
                _snapshot_rows(
                    engagement,
                    day,
                    opinions_of(states.values(), base_rate, settings.half_life, moment),
                )
            )
            existing.add(day)

    facts = (
        TrustFact.objects.filter(engagement=engagement, at__lte=until)
        .order_by("at", "id")
        .values_list("direction", "dimension", "positive", "negative", "at")
    )
    for direction, dimension, positive, negative, at in facts.iterator(chunk_size=5000):
        if next_sample is None:
            next_sample = at + timedelta(days=7)
        while at >= next_sample:
            sample(next_sample)
            next_sample += timedelta(days=7)
        _add(states, engagement, (direction, dimension), positive, negative, at, settings.half_life)
    if next_sample is not None:
        while next_sample <= until:
            sample(next_sample)
            next_sample += timedelta(days=7)
    TrustSnapshot.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
    return len(rows)


# -- alerts ------------------------------------------------------------------------------------


def _recipients(engagement: Engagement) -> list[Any]:
    """Who acts on a trust alert: the engagement's lead, or else the workspace's owners."""
    from confiance.core.models import Role

    if engagement.lead is not None and engagement.lead.is_active:
        return [engagement.lead]
    owners = Membership.objects.filter(
        workspace_id=engagement.workspace_id, role=Role.OWNER
    ).select_related("user")
    return [m.user for m in owners if m.user.is_active]


def _tell(alert: TrustAlert, again: str = "") -> None:
    """Send the alert's notice and e-mail once this transaction commits (`again`: why a second
    time, "worse" or "snooze_over")."""
    from confiance.trust.tasks import send_trust_alert

    # Queued after commit, never failing the write that committed (core/taskqueue.py).
    enqueue_on_commit(send_trust_alert, alert.pk, again)


def _end_snooze(engagement: Engagement, alert: TrustAlert, why: str) -> None:
    """The snooze is over (its time came, or the cause got worse): who should act hears again."""
    alert.snoozed_until = None
    alert.save(update_fields=["snoozed_until"])
    audit_record(
        verb="trust.alert.snooze_end",
        actor=None,
        workspace=engagement.workspace,
        target=alert,
        data={"why": why},
    )
    _tell(alert, "worse" if why == "worse" else "snooze_over")


def _open(
    engagement: Engagement,
    kind: str,
    direction: str,
    cause: Any,
    now: datetime,
    snoozed: TrustAlert | None = None,
) -> TrustAlert:
    """Open an alert and tell who should act, unless it takes over a running snooze (`snoozed`:
    the alert of the same kind it follows, closed or superseded while snoozed) and is no worse."""
    from confiance.trust.alerts import got_worse

    people = _recipients(engagement)
    keeps_snooze = (
        snoozed is not None
        and snoozed.snoozed(now)
        and not got_worse(kind, snoozed.snooze_severity, cause.params)
    )
    alert = TrustAlert.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        kind=kind,
        direction=direction,
        opened_at=now,
        reason=cause.reason,
        reason_params=cause.params,
        identity=cause.identity,
        who_should_act=", ".join(p.get_full_name() for p in people)[:200],
        link=cause.link,
        snoozed_until=snoozed.snoozed_until if keeps_snooze and snoozed else None,
        snooze_reason=snoozed.snooze_reason if keeps_snooze and snoozed else "",
        snooze_severity=snoozed.snooze_severity if keeps_snooze and snoozed else None,
    )
    audit_record(
        verb="trust.alert.open",
        actor=None,
        workspace=engagement.workspace,
        target=alert,
        data={"kind": kind, "direction": direction, "snoozed": keeps_snooze},
    )
    if not keeps_snooze:
        _tell(alert, "worse" if snoozed is not None and snoozed.snoozed(now) else "")
    return alert


def _follow(engagement: Engagement, alert: TrustAlert, cause: Any, now: datetime) -> None:
    """An alert whose cause still holds: its reason kept current, its snooze ended when its time
    came or when the cause got worse than when it was snoozed."""
    from confiance.trust.alerts import got_worse

    if (alert.reason, alert.reason_params, alert.link) != (cause.reason, cause.params, cause.link):
        alert.reason, alert.reason_params, alert.link = cause.reason, cause.params, cause.link
        alert.save(update_fields=["reason", "reason_params", "link"])
    if alert.snoozed_until is None:
        return
    if not alert.snoozed(now):
        _end_snooze(engagement, alert, "over")
    elif got_worse(alert.kind, alert.snooze_severity, cause.params):
        _end_snooze(engagement, alert, "worse")


def _close(engagement: Engagement, alert: TrustAlert, outcome: str, now: datetime) -> None:
    alert.closed_at = now
    alert.outcome = outcome
    alert.save(update_fields=["closed_at", "outcome"])
    audit_record(
        verb="trust.alert.close",
        actor=None,
        workspace=engagement.workspace,
        target=alert,
        data={"outcome": outcome},
    )


def _snoozed_before(engagement: Engagement, kind: str, direction: str, now: datetime) -> Any:
    """The last closed alert of this kind whose snooze still runs: a cause that went and came
    back within a snooze does not ring again."""
    return (
        TrustAlert.objects.filter(
            engagement=engagement,
            kind=kind,
            direction=direction,
            closed_at__isnull=False,
            snoozed_until__gt=now,
        )
        .order_by("-closed_at", "-id")
        .first()
    )


@transaction.atomic
def trust_check_alerts(
    *,
    engagement: Engagement,
    now: datetime | None = None,
    settings: TrustSettings | None = None,
    opinions: dict[StateKey, Opinion] | None = None,
) -> tuple[list[TrustAlert], int]:
    """Open the alerts whose cause appeared (sent once), close those whose cause is gone (the
    outcome kept), and re-arm one whose cause changed identity (a new budget revision).

    Snooze: a snoozed alert is not told again until its snooze ends (then once, if its cause
    still holds), unless its cause gets worse (alerts.WORSE_BY); an alert that closes and opens
    again, or is superseded, while snoozed keeps the snooze on those same terms. `opinions`: the
    engagement's opinions as of `now` when the caller has them (trust_snapshot_and_check).
    """
    return _check_alerts(engagement, now or timezone.now(), settings, opinions)


def _check_alerts(
    engagement: Engagement,
    now: datetime,
    settings: TrustSettings | None,
    opinions: dict[StateKey, Opinion] | None,
) -> tuple[list[TrustAlert], int]:
    """trust_check_alerts, inside the caller's transaction."""
    from confiance.trust.alerts import causes_of

    causes = causes_of(engagement, now, settings, opinions)
    open_alerts = {
        (a.kind, a.direction): a
        for a in TrustAlert.objects.select_for_update().filter(
            engagement=engagement, closed_at__isnull=True
        )
    }
    opened: list[TrustAlert] = []
    closed = 0
    for key, alert in open_alerts.items():
        cause = causes.get(key)
        if cause is None:
            _close(engagement, alert, "cause_gone", now)
            closed += 1
        elif cause.identity != alert.identity:
            _close(engagement, alert, "superseded", now)
            closed += 1
            opened.append(_open(engagement, key[0], key[1], cause, now, snoozed=alert))
        else:
            _follow(engagement, alert, cause, now)
    for key, cause in causes.items():
        if key not in open_alerts:
            before = _snoozed_before(engagement, key[0], key[1], now)
            opened.append(_open(engagement, key[0], key[1], cause, now, snoozed=before))
    return opened, closed


# -- settings ----------------------------------------------------------------------------------


@transaction.atomic
def trust_settings_update(
    *,
    membership: Membership,
    half_life_days: int,
    weights: dict[str, float],
    base_rates: dict[str, float],
) -> TrustSettings:
    """The owner sets weights, base rates and the half-life; the engagements are then rebuilt."""
    from confiance.trust.tasks import trust_rebuild_workspace

    if not access.can_manage_trust_settings(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not 1 <= half_life_days <= 3650:
        errors["half_life_days"] = _("The half-life must be between 1 and 3,650 days.")
    for key, value in weights.items():
        if key not in indicators.BY_KEY:
            errors[key] = _("Unknown indicator.")
        elif not 0 <= value <= 100:
            errors[f"weight_{key}"] = _("A weight must be between 0 and 100.")
    for origin, value in base_rates.items():
        if not 0 <= value <= 1:
            errors[f"base_rate_{origin}"] = _("A base rate must be between 0 and 1.")
    if errors:
        raise ValidationError(errors)
    settings, _created = TrustSettings.objects.get_or_create(workspace_id=membership.workspace_id)
    settings.half_life_days = half_life_days
    settings.weights = {k: float(v) for k, v in weights.items()}
    settings.base_rates = {k: float(v) for k, v in base_rates.items()}
    settings.updated_at = timezone.now()
    settings.save(update_fields=["half_life_days", "weights", "base_rates", "updated_at"])
    audit_record(
        verb="trust.settings.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=settings,
        data={
            "half_life_days": half_life_days,
            "weights": settings.weights,
            "base_rates": settings.base_rates,
        },
    )
    workspace_id = membership.workspace_id
    transaction.on_commit(lambda: trust_rebuild_workspace.enqueue(workspace_id))
    return settings
