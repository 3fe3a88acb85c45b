"""Reads of the trust model: an engagement's trust with its explanation, the workspace portfolio.

Both start from the access policy (access.get_engagement / Engagement.objects.visible_to) and read
TrustState, TrustFact and TrustSnapshot in a fixed number of queries, whatever the data.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, Protocol, TypeVar

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.models import Client, Membership, Role, User
from confiance.core.queries import Prepared, PreparedIn, build, build_all, columns
from confiance.engagements.models import (
    ContactOrigin,
    Engagement,
    EngagementStatus,
)
from confiance.engagements.selectors import ROW_NAMES, TableRow
from confiance.followup.models import Meeting
from confiance.trust import indicators, sentences
from confiance.trust.facts import render_label
from confiance.trust.models import (
    TrustAlert,
    TrustFact,
    TrustSnapshot,
    TrustState,
    TrustSummary,
)
from confiance.trust.opinion import (
    Masses,
    Opinion,
    band_of,
    evidence_masses,
    masses_of,
    projected_of,
)
from confiance.trust.services import (
    ACTIVE_STATUSES,
    opinions_of,
    trust_settings_for,
)
from confiance.trust.summaries import microseconds

TOP_FACTS = 10
TOP_PER_DIMENSION = 3


@dataclass(frozen=True, slots=True)
class Figure:
    """One opinion as shown: percentages, its band, and the facts behind it. Never changed once
    made: the portfolio's and the glance's figures are kept for their minute and shared by
    every request that shows them (`Weighed.figures`)."""

    key: str
    label: str
    opinion: Opinion
    reasons: Sequence[ExplainedFact] = ()
    # The figure in one plain sentence from the reader's side (trust/sentences.py).
    sentence: str = ""
    projected: int = field(init=False)
    low: int = field(init=False)
    high: int = field(init=False)
    uncertainty: int = field(init=False)
    belief: int = field(init=False)
    disbelief: int = field(init=False)

    def __post_init__(self) -> None:
        # Computed once: templates read them many times over a thousand rows.
        opinion = self.opinion
        low, high = opinion.band()
        computed = {
            "reasons": tuple(self.reasons),
            "projected": round(opinion.projected() * 100),
            "low": round(low * 100),
            "high": round(high * 100),
            "uncertainty": round(opinion.uncertainty * 100),
            "belief": round(opinion.belief * 100),
            "disbelief": round(opinion.disbelief * 100),
        }
        for name, value in computed.items():
            object.__setattr__(self, name, value)  # frozen: set once, here


@dataclass
class ExplainedFact:
    label: str
    link: str
    at: datetime
    dimension: str
    positive: bool
    weight: float  # decayed to now
    reason: str


@dataclass
class DirectionTrust:
    direction: str
    label: str
    question: str
    overall: Figure
    dimensions: list[Figure]
    explanation: list[ExplainedFact]
    chart: dict[str, Any]
    alerts: list[TrustAlert]
    # The alerts snoozed at the moment the figures are of (their order and their words alike).
    snoozed: frozenset[int] = frozenset()


@dataclass
class LadderStep:
    key: str
    label: str
    condition: str
    met: bool


@dataclass
class EngagementTrust:
    engagement: Engagement
    base_rate: float
    origin_label: str
    half_life_days: int
    directions: list[DirectionTrust]
    ladder: list[LadderStep] | None
    stage: LadderStep | None


def _dimensions_for(direction: str) -> tuple[str, ...]:
    return indicators.dimensions_of(direction)


_FACT_FIELDS = (
    "direction",
    "dimension",
    "indicator",
    "at",
    "positive",
    "negative",
    "label",
    "params",
    "link",
    "rank",
    "id",
    "branch",
)
# The strongest facts' query, per tuple of directions shown (compiled once per process).
_TOP_QUERIES: dict[tuple[str, ...], Prepared] = {}


def _top_facts_query(directions: tuple[str, ...]) -> Prepared:
    """Every list of strongest facts of the trust page in one query: per direction and per
    dimension, an index range scan on TrustFact.rank (a fixed number, whatever the facts).

    Each part is tagged with its number in `_top_parts(directions)`."""
    query = _TOP_QUERIES.get(directions)
    if query is not None:
        return query

    def make(engagement_id: int) -> list[QuerySet[Any]]:
        facts = TrustFact.objects.filter(engagement_id=engagement_id).order_by("-rank", "-id")
        parts = []
        for branch, (direction, dimension, limit) in enumerate(_top_parts(directions)):
            part = facts.filter(direction=direction)
            if dimension is not None:
                part = part.filter(dimension=dimension)
            tagged = part.annotate(branch=Value(branch, output_field=IntegerField()))
            parts.append(tagged.values_list(*_FACT_FIELDS)[:limit])
        return parts

    return _TOP_QUERIES.setdefault(directions, Prepared(make, engagement_id=int))


def _top_parts(directions: tuple[str, ...]) -> list[tuple[str, str | None, int]]:
    """(direction, dimension or None for the whole direction, how many facts) of each list."""
    parts: list[tuple[str, str | None, int]] = []
    for direction in directions:
        parts.append((direction, None, TOP_FACTS))
        parts += [(direction, d, TOP_PER_DIMENSION) for d in _dimensions_for(direction)]
    return parts


def _explain(
    engagement: Engagement, directions: list[str], half_life: timedelta, now: datetime
) -> tuple[dict[str, list[ExplainedFact]], dict[tuple[str, str], list[ExplainedFact]]]:
    """The facts that weigh most now (decayed weight), per direction and per dimension.

    TrustFact.rank orders facts by decayed weight, so each list is an index range scan; the
    lists come in one query (`_top_facts_query`).
    """
    if not directions:
        return {}, {}
    h = half_life.total_seconds()
    shown = tuple(directions)
    parts = _top_parts(shown)
    lists: list[list[tuple[Any, ...]]] = [[] for _part in parts]
    for row in _top_facts_query(shown).rows(engagement_id=engagement.pk):
        lists[row[-1]].append(row)
    per_direction: dict[str, list[ExplainedFact]] = {d: [] for d in directions}
    per_dimension: dict[tuple[str, str], list[ExplainedFact]] = {}
    for (direction, dimension, _limit), rows in zip(parts, lists, strict=True):
        # A part's order within the union is not promised: each list sorted as its scan read.
        rows.sort(key=lambda row: (row[9], row[10]), reverse=True)
        explained = []
        for _d, dim, indicator, at, positive, negative, label, params, link, *_rest in rows:
            age = max(0.0, (now - at).total_seconds())
            known = indicators.BY_KEY.get(indicator)
            explained.append(
                ExplainedFact(
                    label=render_label(label, params),
                    link=link,
                    at=at,
                    dimension=dim,
                    positive=positive >= negative,
                    weight=round((positive + negative) * 2.0 ** (-age / h), 2),
                    reason=str(known.reason) if known else "",
                )
            )
        if dimension is None:
            per_direction[direction] = explained
        elif explained:
            per_dimension[(direction, dimension)] = explained
    return per_direction, per_dimension


def _chart(
    snapshots: list[TrustSnapshot], direction: str, today: Opinion, now: datetime
) -> dict[str, Any]:
    labels, projected, low, high = [], [], [], []
    points = [
        (s.day.isoformat(), Opinion(s.belief, s.disbelief, s.uncertainty, s.base_rate))
        for s in snapshots
        if s.direction == direction and s.day < timezone.localdate(now)
    ]
    points.append((timezone.localdate(now).isoformat(), today))
    for day, opinion in points:
        band = opinion.band()
        labels.append(day)
        projected.append(round(opinion.projected() * 100, 1))
        low.append(round(band[0] * 100, 1))
        high.append(round(band[1] * 100, 1))
    return {"labels": labels, "projected": projected, "low": low, "high": high}


def _ladder(
    counts: dict[str, tuple[int, int]], opinions: dict[tuple[str, str], Opinion]
) -> list[LadderStep]:
    """The interaction ladder, inferred from the facts; a stage counts once all below it hold.

    `counts`: per indicator, its facts and those more positive than negative ("good").
    """

    def good(key: str) -> int:
        return counts.get(key, (0, 0))[1]

    def total(key: str) -> int:
        return counts.get(key, (0, 0))[0]

    perceived = opinions.get(("c2p", indicators.PERCEIVED))
    both_high = all(
        opinions[(d, indicators.OVERALL)].projected() >= 0.7
        and opinions[(d, indicators.OVERALL)].uncertainty <= 0.5
        for d in indicators.DIRECTIONS
    )
    broken = total("provider_commitment_broken") + total("client_commitment_broken")
    steps = [
        (
            "information",
            _("Information exchange"),
            _("Facts are shared: at least one observed fact (time logged, budget, ledger)."),
            bool(counts),
        ),
        (
            "dialogue",
            _("Dialogue"),
            _(
                "Both sides meet or answer: people of each side present at a meeting, or pulse "
                "answers from each side."
            ),
            (good("provider_attendance") > 0 and good("client_attendance") > 0)
            or (total("client_pulse") > 0 and total("provider_pulse") > 0),
        ),
        (
            "understanding",
            _("Common understanding"),
            _("The client's pulse says it: perceived trust of at least %(p)s %%.") % {"p": 60},
            total("client_pulse") > 0 and perceived is not None and perceived.projected() >= 0.6,
        ),
        (
            "parallel",
            _("Parallel production"),
            _("Each side keeps its own commitments: at least one kept on time by each."),
            good("provider_commitment_kept") > 0 and good("client_commitment_kept") > 0,
        ),
        (
            "values",
            _("Shared values"),
            _("Trust of at least %(p)s %% in both directions, with uncertainty at most %(u)s %%.")
            % {"p": 70, "u": 50},
            both_high,
        ),
        (
            "coproduction",
            _("Co-production"),
            _("At least three commitments kept on time by each side, none broken."),
            good("provider_commitment_kept") >= 3
            and good("client_commitment_kept") >= 3
            and broken == 0,
        ),
    ]
    result = []
    holding = True
    for key, label, condition, met in steps:
        holding = holding and bool(met)
        result.append(LadderStep(key, str(label), str(condition), holding))
    return result


# The trust page's reads, compiled once per process (core.queries.Prepared); what depends on
# the reader (the directions shown) is filtered from their rows.
_STATES = Prepared(
    lambda engagement_id: TrustState.objects.filter(engagement_id=engagement_id).values_list(
        *columns(TrustState)
    ),
    engagement_id=int,
)
_SNAPSHOTS = Prepared(
    lambda engagement_id, since: (
        TrustSnapshot.objects.filter(
            engagement_id=engagement_id, dimension=indicators.OVERALL, day__gte=since
        )
        .order_by("day")
        .values_list(*columns(TrustSnapshot))
    ),
    engagement_id=int,
    since=date,
)
# An open alert with who took, acknowledged and acted on it (`_alert_from` builds it).
_ALERT_COLUMNS = (
    *columns(TrustAlert),
    *columns(User, "assignee__"),
    *columns(User, "acknowledged_by__"),
    *columns(Meeting, "step_meeting__"),
    *columns(User, "step_taken_by__"),
)
_OPEN_ALERTS_OF = Prepared(
    lambda engagement_id: TrustAlert.objects.filter(
        engagement_id=engagement_id, closed_at__isnull=True
    ).values_list(*_ALERT_COLUMNS),
    engagement_id=int,
)
_FACT_COUNTS = Prepared(
    lambda engagement_id: (
        TrustFact.objects.filter(engagement_id=engagement_id)
        .values_list("direction", "dimension", "indicator")
        .annotate(n=Count("id"), good=Count("id", filter=Q(positive__gt=F("negative"))))
        .order_by()
    ),
    engagement_id=int,
)


def _alert_from(row: Sequence[Any]) -> TrustAlert:
    """The alert of a row of `_ALERT_COLUMNS`, its people and meeting set."""
    alert, at = build(TrustAlert, row)
    assert alert is not None
    alert.assignee, at = build(User, row, at)
    alert.acknowledged_by, at = build(User, row, at)
    alert.step_meeting, at = build(Meeting, row, at)
    alert.step_taken_by, at = build(User, row, at)
    return alert


def _open_alerts(engagement_id: int) -> list[TrustAlert]:
    """The engagement's open alerts with who took, acknowledged and acted on each."""
    return [_alert_from(row) for row in _OPEN_ALERTS_OF.rows(engagement_id=engagement_id)]


def engagement_trust(
    *, fetched_by: Membership, engagement: Engagement, now: datetime | None = None
) -> EngagementTrust:
    """The engagement's trust in the directions this person may see, each with its reasons."""
    now = now or timezone.now()
    directions = access.trust_directions(fetched_by, engagement)
    settings = trust_settings_for(engagement.workspace_id)
    base_rate = settings.base_rate(engagement.contact_origin)
    internal = access.is_internal(fetched_by)
    # The provider's people see both directions and the ladder, which weighs both: one read of
    # the states and one count of the facts serve the figures and the ladder.
    all_states = build_all(TrustState, _STATES.rows(engagement_id=engagement.pk))
    states = [state for state in all_states if state.direction in directions]
    opinions = opinions_of(states, base_rate, settings.half_life, now)
    top, per_dimension = _explain(engagement, directions, settings.half_life, now)
    since = timezone.localdate(now) - timedelta(days=365)
    snapshots = [
        snapshot
        for snapshot in build_all(
            TrustSnapshot, _SNAPSHOTS.rows(engagement_id=engagement.pk, since=since)
        )
        if snapshot.direction in directions
    ]
    # Alerts are early warnings for the provider's people who should act, not for the client.
    alerts = (
        sorted(
            (alert for alert in _open_alerts(engagement.pk) if alert.direction in directions),
            key=lambda a: (a.snoozed(now), -a.opened_at.timestamp(), -a.pk),
        )
        if internal
        else []
    )
    vacuous = Opinion.vacuous(base_rate)
    counted: dict[tuple[str, str], list[tuple[str, int]]] = {}
    per_indicator: dict[str, tuple[int, int]] = {}  # the ladder's: (facts, good facts)
    for direction, dimension, indicator, n, good in _FACT_COUNTS.rows(engagement_id=engagement.pk):
        if direction in directions:
            counted.setdefault((direction, dimension), []).append((indicator, n))
        elif not internal:
            continue  # the ladder weighs both directions for the provider's people only
        before_n, before_good = per_indicator.get(indicator, (0, 0))
        per_indicator[indicator] = (before_n + n, before_good + good)
    reader_is_provider = internal
    result = []
    for direction in directions:
        figures = []
        unknown = []
        for dimension in _dimensions_for(direction):
            opinion = opinions.get((direction, dimension), vacuous)
            label = str(indicators.DIMENSION_LABELS[dimension])
            evidence = sentences.evidence_text(counted.get((direction, dimension), []))
            figures.append(
                Figure(
                    dimension,
                    label,
                    opinion,
                    per_dimension.get((direction, dimension), []),
                    sentence=sentences.figure_sentence(opinion, evidence),
                )
            )
            if opinion.uncertainty > sentences.UNKNOWN_ABOVE:
                unknown.append(label.lower())
        overall = opinions[(direction, indicators.OVERALL)]
        all_counts = [c for (d, _dim), cs in counted.items() if d == direction for c in cs]
        evidence = sentences.evidence_text(all_counts)
        result.append(
            DirectionTrust(
                direction=direction,
                label=str(indicators.DIRECTION_LABELS[direction]),
                question=sentences.question(
                    direction=direction,
                    reader_is_provider=reader_is_provider,
                    # The engagement is in the reader's workspace (access.get_engagement).
                    provider=fetched_by.workspace.name,
                    client=engagement.client.name,
                ),
                overall=Figure(
                    indicators.OVERALL,
                    str(indicators.DIMENSION_LABELS["overall"]),
                    overall,
                    top[direction],
                    sentence=sentences.figure_sentence(overall, evidence, unknown),
                ),
                dimensions=figures,
                explanation=top[direction],
                chart=_chart(snapshots, direction, overall, now),
                alerts=[a for a in alerts if a.direction == direction],
                snoozed=frozenset(a.pk for a in alerts if a.snoozed(now)),
            )
        )
    # The ladder weighs both directions: the provider's people see it, the client does not.
    ladder = None
    if internal:
        all_opinions = opinions_of(all_states, base_rate, settings.half_life, now)
        ladder = _ladder(per_indicator, all_opinions)
    stage = None
    if ladder:
        reached = [step for step in ladder if step.met]
        stage = reached[-1] if reached else None
    return EngagementTrust(
        engagement=engagement,
        base_rate=base_rate,
        origin_label=str(ContactOrigin(engagement.contact_origin).label)
        if engagement.contact_origin in ContactOrigin.values
        else engagement.contact_origin,
        half_life_days=settings.half_life_days,
        directions=result,
        ladder=ladder,
        stage=stage,
    )


_ASSIGNABLE = Prepared(
    lambda workspace_id: Membership.objects.filter(
        workspace_id=workspace_id, role__in=(Role.OWNER, Role.MEMBER), user__is_active=True
    ).values_list(*columns(User, "user__")),
    workspace_id=int,
)


def alert_assignees(*, fetched_by: Membership) -> list[Any]:
    """Who an alert can be given to: the workspace's owners and consultants, by name."""
    people = build_all(User, _ASSIGNABLE.rows(workspace_id=fetched_by.workspace_id))
    return sorted(people, key=lambda u: (u.get_full_name() or u.email).lower())


# -- portfolio ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertGlance:
    """An open alert as the portfolio shows it: its kind, who should act, until when it sleeps."""

    pk: int
    engagement_id: int
    kind: str
    opened_at: datetime
    who: str  # the person who took it (their name, else their address), else who should act
    snoozed_until: datetime | None
    snooze_reason: str

    def snoozed(self, now: datetime | None = None) -> bool:
        """Put aside until a later moment than now (TrustAlert.snoozed)."""
        return self.snoozed_until is not None and self.snoozed_until > (now or timezone.now())


@dataclass
class PortfolioRow:
    engagement: TableRow  # its client's name and lead's name read with it
    c2p: Figure
    p2c: Figure
    weighed: Weighed  # its evidence decayed to the ranking's instant, its heat map's cells
    trend: int | None  # change of c2p projected trust over the window, in points
    alerts: list[AlertGlance]
    risk: float

    @property
    def heat(self) -> tuple[HeatCell, ...]:
        """The client→provider dimensions for the heat map."""
        return self.weighed.heat


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One dimension of a row of the heat map: what a `Figure` of its opinion would show."""

    projected: int  # percent
    low: int
    high: int
    css: str  # its colour class; "heat-unknown" where too little is known to say


def _heat_cell(masses: Masses) -> HeatCell:
    """The cell of an opinion given as a tuple: `Figure`'s rounded figures, without the object
    (a page of the portfolio shows five hundred)."""
    p = projected_of(masses)
    low, high = band_of(masses)
    if masses[2] > 0.8:
        css = "heat-unknown"
    elif p >= 0.75:
        css = "heat-high"
    elif p >= 0.6:
        css = "heat-mid"
    elif p >= 0.45:
        css = "heat-low"
    else:
        css = "heat-bad"
    return HeatCell(round(p * 100), round(low * 100), round(high * 100), css)


PORTFOLIO_DIMENSIONS = tuple(d for d in indicators.DIMENSIONS if d != indicators.GOOD_FAITH)


class Weighed:
    """A summary's states weighed at one instant: each dimension's evidence decayed to it, the
    overall opinion of each direction and the heat map's cells (made when a row is shown).

    Nothing in it may change once made: the same one serves every ranking of the same states
    at the same instant (`_weighed_at`).
    """

    __slots__ = (
        "_figures",
        "_heat",
        "base_rate",
        "c2p",
        "c2p_projected",
        "evidence",
        "p2c",
        "p2c_projected",
    )

    def __init__(
        self, evidence: dict[tuple[str, str], tuple[float, float]], base_rate: float
    ) -> None:
        self.evidence = evidence
        self.base_rate = base_rate
        self.c2p = _overall(evidence, "c2p", base_rate)
        self.p2c = _overall(evidence, "p2c", base_rate)
        self.c2p_projected = projected_of(self.c2p)
        self.p2c_projected = projected_of(self.p2c)
        self._heat: tuple[HeatCell, ...] | None = None
        self._figures: tuple[Figure, Figure] | None = None

    @property
    def figures(self) -> tuple[Figure, Figure]:
        """The overall opinions as shown, client→provider then provider→client: the very
        floats services.overall_of gives (opinion.py). Read, never changed."""
        if self._figures is None:
            self._figures = (
                Figure("overall", "", Opinion(*self.c2p)),
                Figure("overall", "", Opinion(*self.p2c)),
            )
        return self._figures

    @property
    def heat(self) -> tuple[HeatCell, ...]:
        """The client→provider dimensions of the heat map."""
        if self._heat is None:
            evidence, base_rate = self.evidence, self.base_rate
            self._heat = tuple(
                _heat_cell(evidence_masses(*evidence.get(("c2p", d), (0.0, 0.0)), base_rate))
                for d in PORTFOLIO_DIMENSIONS
            )
        return self._heat


# What the last minutes' rankings weighed, by the summary's states (as stored), base rate and
# half-life: the figures of a summary at an instant are a function of those alone, so a ranking
# asked again at the same instant (the portfolio's view asks at the start of the minute) weighs
# only the summaries written since. Kept for the starts of minutes only (another instant is
# asked once: by a test, a script), for the last two (a minute's turn), and up to a bound each
# (about 5 KB a summary of eleven states).
MINUTE_US = 60_000_000


def this_minute() -> datetime:
    """The moment every trust figure shown is of: the start of the current minute (the
    engagement's trust page, the portfolio, each at-a-glance band), so that within a minute
    every page gives an engagement the same figure and the rankings share what they weighed."""
    return timezone.now().replace(second=0, microsecond=0)


_WEIGHED_INSTANTS = 2
_WEIGHED_LIMIT = 10_000
_WeighedKey = tuple[str | None, float, float]
_weighed: dict[int, dict[_WeighedKey, Weighed]] = {}
_weighed_lock = threading.Lock()


K = TypeVar("K")
V = TypeVar("V")


def _kept_at(store: dict[int, dict[K, V]], now_us: int) -> dict[K, V]:
    """What `store` keeps for this instant, for the last `_WEIGHED_INSTANTS` starts of minutes
    (an empty dict, not kept, for an instant that does not start a minute)."""
    if now_us % MINUTE_US:
        return {}
    found = store.get(now_us)
    if found is None:
        with _weighed_lock:
            found = store.get(now_us)
            if found is None:
                while len(store) >= _WEIGHED_INSTANTS:
                    del store[min(store)]
                found = store[now_us] = {}
    return found


def _weighed_at(now_us: int) -> dict[_WeighedKey, Weighed]:
    """The summaries already weighed at this instant."""
    return _kept_at(_weighed, now_us)


def _weigh_kept(
    kept: dict[_WeighedKey, Weighed],
    states: str | None,
    base_rate: float,
    now_us: int,
    half_life: float,
    factors: dict[int, float],
) -> Weighed:
    """A summary weighed at now_us: as kept for the instant, else weighed (and kept)."""
    key = (states, base_rate, half_life)
    found = kept.get(key)
    if found is None:
        found = _weigh(states, base_rate, now_us, half_life, factors)
        if len(kept) < _WEIGHED_LIMIT:
            kept[key] = found
    return found


# By the ids alone, as the glance's other reads (the caller's engagements, in reach): a page of
# fifty is fifty parameters, the most psycopg keeps a query's parsing for.
_SUMMARIES = PreparedIn(
    lambda ids: TrustSummary.objects.filter(engagement_id__in=ids).values_list(
        "engagement_id", "states"
    ),
    "ids",
)


class _Weighable(Protocol):
    pk: int
    contact_origin: str


def summaries_weighed(
    engagements: Sequence[_Weighable], *, workspace_id: int, now: datetime
) -> dict[int, Weighed]:
    """Some engagements' trust weighed at `now` from their summaries, by id (one query): the
    very figures the portfolio ranks by at the same instant, and what it kept for the instant.
    The engagements are the caller's, already in the reader's reach."""
    settings = trust_settings_for(workspace_id)
    h = settings.half_life.total_seconds()
    now_us = microseconds(now)
    kept = _weighed_at(now_us)
    states = dict(_SUMMARIES.rows(ids=[e.pk for e in engagements]))
    factors: dict[int, float] = {}
    return {
        e.pk: _weigh_kept(
            kept, states.get(e.pk), settings.base_rate(e.contact_origin), now_us, h, factors
        )
        for e in engagements
    }


def _weigh(
    states: str | None, base_rate: float, now_us: int, half_life: float, factors: dict[int, float]
) -> Weighed:
    """A summary's states (its JSON text, None without a summary) weighed at now_us.

    Each state's evidence is decayed to now from its own time (trust/summaries.py): the same
    floats as TrustState.evidence_at (an integer count of microseconds divided as
    timedelta.total_seconds() divides it); a time shared by many states is weighed once.
    """
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for direction, dimension, positive, negative, at in json.loads(states) if states else ():
        factor = factors.get(at)
        if factor is None:
            factor = factors[at] = 2.0 ** (-max(0.0, (now_us - at) / 1_000_000) / half_life)
        found[(direction, dimension)] = (positive * factor, negative * factor)
    return Weighed(found, base_rate)


@dataclass(frozen=True, slots=True)
class RankedEngagement:
    """One engagement of the portfolio as ranked: its risk and what its row is built from."""

    pk: int
    title: str
    weighed: Weighed  # its figures at the ranking's instant
    trend: int | None
    risk: float

    @property
    def c2p(self) -> Masses:
        """The overall opinion of each direction."""
        return self.weighed.c2p

    @property
    def p2c(self) -> Masses:
        return self.weighed.p2c


class _Reach(NamedTuple):
    """Where a ranked engagement is and whose it is: what the access policy decides on."""

    workspace_id: int
    client_id: int
    status: str


_RANKING_FILTERS: dict[str, type] = {"status": str, "client_id": int, "lead_id": int}


@functools.cache
def _ranking_query(filters: frozenset[str]) -> Prepared:
    """The portfolio's engagements of a workspace (active ones, or of one status; of a client,
    of a lead) with what ranking them needs, compiled once per process for each set of filters.

    Each row carries the trend's earliest snapshot of the window (one index seek per engagement,
    trust_snapshot_once) and the number of open alerts not snoozed (TrustAlert.snoozed: an index
    seek too), then the summary's states; then what the access policy decides on.
    """

    def make(
        workspace_id: int,
        now: datetime,
        window: date,
        status: str = "",
        client_id: int = 0,
        lead_id: int = 0,
    ) -> QuerySet[Any]:
        engagements = Engagement.objects.filter(workspace_id=workspace_id)
        if "status" in filters:
            engagements = engagements.filter(status=status)
        else:
            engagements = engagements.filter(status__in=ACTIVE_STATUSES)
        if "client_id" in filters:
            engagements = engagements.filter(client_id=client_id)
        if "lead_id" in filters:
            engagements = engagements.filter(lead_id=lead_id)
        earliest = Subquery(
            TrustSnapshot.objects.filter(
                engagement_id=OuterRef("pk"),
                day__gte=window,
                direction="c2p",
                dimension=indicators.OVERALL,
            )
            .order_by("day")
            .values("projected")[:1]
        )
        awake = Subquery(
            TrustAlert.objects.filter(engagement_id=OuterRef("pk"), closed_at__isnull=True)
            .filter(Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now))
            .order_by()
            .values("engagement_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Ranked by risk afterwards: no order asked of the database (the model's would sort).
        return (
            engagements.annotate(earliest=earliest, awake=awake)
            .order_by()
            .values_list(
                "pk",
                "title",
                "contact_origin",
                "earliest",
                "awake",
                "trust_summary__states",  # a text: the key of what was weighed (_weighed_at)
                "workspace_id",
                "client_id",
                "status",
            )
        )

    kinds = {name: kind for name, kind in _RANKING_FILTERS.items() if name in filters}
    return Prepared(make, workspace_id=int, now=datetime, window=date, **kinds)


def _overall(
    evidence: dict[tuple[str, str], tuple[float, float]], direction: str, base_rate: float
) -> Masses:
    """services.overall_of for evidence, as plain floats: `weighted_average_masses` of the
    dimensions' opinions (a vacuous one where nothing is known), the same products summed in the
    same order (opinion.py), inlined for the weights checked once below; ranking a portfolio
    calls this twice for each of its engagements."""
    weighted, total = _WEIGHTED_DIMENSIONS[direction]
    beliefs, disbeliefs, uncertainties, rated, rates = [], [], [], [], []
    for dimension, weight in weighted:
        found = evidence.get((direction, dimension))
        if found is None:
            belief, disbelief, uncertainty, rate = 0.0, 0.0, 1.0, float(base_rate)
        else:
            belief, disbelief, uncertainty, rate = evidence_masses(found[0], found[1], base_rate)
        beliefs.append(belief * weight)
        disbeliefs.append(disbelief * weight)
        uncertainties.append(uncertainty * weight)
        rated.append(rate * uncertainty * weight)
        rates.append(rate * weight)
    fsum = math.fsum
    uncertain = fsum(uncertainties)
    return masses_of(
        fsum(beliefs) / total,
        fsum(disbeliefs) / total,
        uncertain / total,
        fsum(rated) / uncertain if uncertain > 0.0 else fsum(rates) / total,
    )


def _weighted(direction: str) -> tuple[list[tuple[str, float]], float]:
    """A direction's dimensions with their weights, and the weights' sum, checked as
    `weighted_average_masses` checks them."""
    weighted = [(d, indicators.DIMENSION_WEIGHTS[d]) for d in indicators.dimensions_of(direction)]
    weights = [weight for _dimension, weight in weighted]
    if not weighted or not all(0.0 <= w < math.inf for w in weights) or math.fsum(weights) <= 0:
        raise ValueError(f"the weights of {direction} must be finite, >= 0, of a positive sum")
    return weighted, math.fsum(weights)


_WEIGHTED_DIMENSIONS = {direction: _weighted(direction) for direction in indicators.DIRECTIONS}


def trust_portfolio_ranking(
    *,
    fetched_by: Membership,
    client_id: int | None = None,
    lead_id: int | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[RankedEngagement]:
    """Every engagement in reach (active by default), riskiest first, from values only.

    One query whatever the number of engagements (the engagements with their summary row, the
    first snapshot of the trend's window and their open alerts; compiled once per process) and
    the settings; no model object is built: trust_portfolio_rows builds the shown ones.
    """
    if not access.can_see_trust_portfolio(fetched_by):
        return []
    now = now or timezone.now()
    # An id no column can hold finds nothing, as the ORM's lookup would say without asking.
    if any(v is not None and not -(2**63) <= v < 2**63 for v in (client_id, lead_id)):
        return []
    settings = trust_settings_for(fetched_by.workspace_id)
    h = settings.half_life.total_seconds()
    now_us = microseconds(now)
    kept = _weighed_at(now_us)
    factors: dict[int, float] = {}
    # The trend compares with the earliest day of the window that has a snapshot.
    window = timezone.localdate(now) - timedelta(days=settings.drop_window_days)
    asked: dict[str, Any] = {"status": status, "client_id": client_id, "lead_id": lead_id}
    filters = {name: value for name, value in asked.items() if value}
    query = _ranking_query(frozenset(filters))
    rows = query.rows(workspace_id=fetched_by.workspace_id, now=now, window=window, **filters)
    # Asked again within its minute with the very same rows, the ranking is the same.
    again = (
        # The reader's reach, as `access.engagement_rule` decides it on each row below.
        fetched_by.workspace_id,
        fetched_by.role,
        fetched_by.client_id,
        tuple(sorted(filters.items())),
        now_us,
        window,
        h,
        json.dumps(settings.base_rates, sort_keys=True),
    )
    found = _ranked_at(now_us).get(again)
    if found is not None and found[0] == rows:
        return list(found[1])
    sees = access.engagement_rule(fetched_by)
    base_rates: dict[str, float] = {}
    ranked = []
    for row in rows:
        pk, title, origin, before, alerts, states, *reach = row
        # The access policy's rule on each row, as `visible_to` would in the query.
        if not sees(_Reach(*reach)):
            continue
        base_rate = base_rates.get(origin)
        if base_rate is None:
            base_rate = base_rates[origin] = settings.base_rate(origin)
        figures = _weigh_kept(kept, states, base_rate, now_us, h, factors)
        c2p_projected = figures.c2p_projected
        trend = round((c2p_projected - before) * 100) if before is not None else None
        # Risk: low trust, then high uncertainty (we do not know), open alerts not snoozed (a
        # snoozed one waits on purpose), a falling trend.
        risk = (
            (1 - c2p_projected)
            + 0.5 * (1 - figures.p2c_projected)
            + 0.3 * figures.c2p[2]
            + 0.2 * (alerts or 0)
            + (max(0, -trend) / 100 if trend is not None else 0)
        )
        ranked.append(RankedEngagement(pk, title, figures, trend, risk))
    ranked.sort(key=lambda row: (-row.risk, row.title))
    rankings = _ranked_at(now_us)
    if len(rankings) < _RANKED_LIMIT:
        rankings[again] = (rows, ranked)
    return list(ranked)


# The last rankings of a minute, by what decides them besides their rows (the reader's reach,
# filters, instant, trend window, half-life, base rates): each view runs the ranking query, and
# finds the engagements ranked already when its rows are the rows ranked. Kept as what was
# weighed is (`_kept_at`: starts of minutes only, the last two), a few per minute and worker.
_RANKED_LIMIT = 16
_ranked: dict[int, dict[tuple[Any, ...], tuple[list[Any], list[RankedEngagement]]]] = {}


def _ranked_at(now_us: int) -> dict[tuple[Any, ...], tuple[list[Any], list[RankedEngagement]]]:
    """The rankings kept for this instant."""
    return _kept_at(_ranked, now_us)


_SHOWN = PreparedIn(
    lambda ids, workspace_id: (
        Engagement.objects.filter(workspace_id=workspace_id, pk__in=ids)
        .order_by()  # in the ranking's order, afterwards
        .values_list(*ROW_NAMES)
    ),
    "ids",
    workspace_id=int,
)
# What the portfolio shows of an open alert (`AlertGlance`), with who took it.
_OPEN_ALERTS = PreparedIn(
    lambda ids, workspace_id: (
        TrustAlert.objects.filter(
            workspace_id=workspace_id, engagement_id__in=ids, closed_at__isnull=True
        )
        .order_by()  # sorted by each row afterwards
        .values_list(
            "pk",
            "engagement_id",
            "kind",
            "opened_at",
            "who_should_act",
            "snoozed_until",
            "snooze_reason",
            "assignee_id",
            "assignee__full_name",
            "assignee__email",
        )
    ),
    "ids",
    workspace_id=int,
)


def trust_portfolio_rows(
    *, fetched_by: Membership, ranked: Sequence[RankedEngagement], now: datetime | None = None
) -> list[PortfolioRow]:
    """The rows of some ranked engagements, in their order: the engagements with their client
    and lead, both directions' figures, their open alerts (not snoozed first). Two queries."""
    if not ranked:
        return []
    now = now or timezone.now()
    ids = [row.pk for row in ranked]
    workspace_id = fetched_by.workspace_id
    # Rows of values, not model instances (compiled once per number of ids); the access
    # policy's rule applied to each, as `visible_to` would in the query.
    sees = access.engagement_rule(fetched_by)
    found = {
        table_row.pk: table_row
        for table_row in map(TableRow.of, _SHOWN.rows(ids=ids, workspace_id=workspace_id))
        if sees(table_row)
    }
    alerts: dict[int, list[AlertGlance]] = {}
    for values in _OPEN_ALERTS.rows(ids=ids, workspace_id=workspace_id):
        pk, engagement_id, kind, opened, who, until, reason, assignee, name, email = values
        if assignee is not None:
            who = name or email  # User.get_full_name
        alert = AlertGlance(pk, engagement_id, kind, opened, who, until, reason)
        alerts.setdefault(engagement_id, []).append(alert)
    rows = []
    for row in ranked:
        engagement = found.get(row.pk)
        if engagement is None:  # gone out of reach since it was ranked
            continue
        c2p, p2c = row.weighed.figures
        # Alerts not snoozed first; a snoozed one was put aside with its reason until a date.
        mine = sorted(alerts.get(row.pk, []), key=lambda a: (a.snoozed(now), a.opened_at, a.pk))
        rows.append(PortfolioRow(engagement, c2p, p2c, row.weighed, row.trend, mine, row.risk))
    return rows


def trust_portfolio(
    *,
    fetched_by: Membership,
    client_id: int | None = None,
    lead_id: int | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> list[PortfolioRow]:
    """Every engagement in reach (active by default) with its trust, sorted by risk, highest
    first: the rows of the whole ranking (the page builds only the rows it shows)."""
    now = now or timezone.now()
    ranked = trust_portfolio_ranking(
        fetched_by=fetched_by, client_id=client_id, lead_id=lead_id, status=status, now=now
    )
    return trust_portfolio_rows(fetched_by=fetched_by, ranked=ranked, now=now)


class FilterChoice(NamedTuple):
    """One choice of a portfolio filter: the id sent, the name shown."""

    pk: int
    name: str


# The clients of the workspace and the people who lead an engagement here (each once: a
# semi-join on the engagements' leads, where a DISTINCT over the join compared every column of
# 1,000 joined rows), in one query; of a lead only the name shown (User.get_full_name).
_FILTER_CHOICES = Prepared(
    lambda workspace_id: [
        Client.objects.filter(workspace_id=workspace_id)
        .order_by("name")
        .annotate(choice_lead=Value(False), choice_email=Value(""))
        .values_list("choice_lead", "pk", "name", "choice_email"),
        User.objects.filter(
            pk__in=Engagement.objects.filter(workspace_id=workspace_id).values("lead_id")
        )
        .order_by("full_name")
        .annotate(choice_lead=Value(True))
        .values_list("choice_lead", "pk", "full_name", "email"),
    ],
    workspace_id=int,
)


def portfolio_filters(*, fetched_by: Membership) -> dict[str, Any]:
    """The choices of the portfolio's filters: clients and leads of the workspace (each in its
    order, by name), statuses."""
    clients: list[FilterChoice] = []
    leads: list[FilterChoice] = []
    for lead, pk, name, email in _FILTER_CHOICES.rows(workspace_id=fetched_by.workspace_id):
        if lead:
            leads.append(FilterChoice(pk, name or email))
        else:
            clients.append(FilterChoice(pk, name))
    return {
        "clients": clients,
        "leads": leads,
        "statuses": [
            (value, label) for value, label in EngagementStatus.choices if value != "draft"
        ],
    }
