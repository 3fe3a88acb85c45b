"""Trust that carries over: a returning client's new engagement starts from what the earlier
engagements with that client showed, not from the contact origin's fixed base rate.

The rule (argued in docs/trust.md, "Trust that carries over"): each earlier engagement of the
same client (created before this one) gives its *final* evidence, per direction and dimension,
as its states last stood; from it, its overall opinion (the weighted average of the dimensions,
both directions together, with the origin's base rate as the prior). That opinion is a witness
of the new relationship, not the new relationship itself, so it is *discounted*
(`opinion.discount`, Jøsang 14.3) by a trust in the source of
`CARRY_OVER · 2^(-age / half-life)`, age counted from the earlier engagement's last fact to the
new engagement's creation. The earlier engagements' discounted opinions are independent
observations of the same question, so they are fused cumulatively; the new engagement's base
rate is the fused opinion's projected probability. With no earlier evidence it is the origin's.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from confiance.core.queries import Prepared
from confiance.trust import indicators
from confiance.trust.opinion import (
    Evidence,
    Opinion,
    cumulative_fuse,
    decay_factor,
    discount,
    fuse_many,
    weighted_average,
)

if TYPE_CHECKING:
    from confiance.engagements.models import Engagement
    from confiance.trust.models import TrustSettings

# How much a previous engagement, just ended, vouches for the next one: half. Another scope,
# often other people; a perfect past engagement should not make the next one start certain.
CARRY_OVER = 0.5
PRIOR_WEIGHT = 2.0


@cache
def _earlier_states() -> Prepared:
    """The states of the client's engagements created before a moment (read at every refresh of
    every engagement: compiled once per process, core.queries.Prepared)."""
    from confiance.trust.models import TrustState

    return Prepared(
        lambda workspace, client, created: TrustState.objects.filter(
            workspace_id=workspace,
            engagement__client_id=client,
            engagement__created_at__lt=created,
        ).values_list("engagement_id", "direction", "dimension", "positive", "negative", "at"),
        workspace=int,
        client=int,
        created=datetime,
    )


def carried_base_rate(engagement: Engagement, settings: TrustSettings, origin_rate: float) -> float:
    """The base rate of `engagement`: its earlier engagements' discounted evidence, else the
    origin's rate. One query."""
    if engagement.pk is None or engagement.client_id is None:
        return origin_rate
    rows = _earlier_states().rows(
        workspace=engagement.workspace_id,
        client=engagement.client_id,
        created=engagement.created_at,
    )
    by_engagement: dict[int, list[tuple[str, str, float, float, datetime]]] = defaultdict(list)
    for engagement_id, direction, dimension, positive, negative, at in rows:
        by_engagement[engagement_id].append((direction, dimension, positive, negative, at))
    witnesses = [
        _witness(states, origin_rate, engagement.created_at, settings)
        for states in by_engagement.values()
    ]
    if not witnesses:
        return origin_rate
    return fuse_many(witnesses, cumulative_fuse).projected()


def _witness(
    states: list[tuple[str, str, float, float, datetime]],
    origin_rate: float,
    now: datetime,
    settings: TrustSettings,
) -> Opinion:
    """One earlier engagement's final overall opinion, discounted by its age."""
    opinions = {
        (direction, dimension): Evidence(positive, negative, at).opinion(origin_rate, PRIOR_WEIGHT)
        for direction, dimension, positive, negative, at in states
    }
    vacuous = Opinion.vacuous(origin_rate)
    overall = weighted_average(
        (
            weighted_average(
                (opinions.get((direction, d), vacuous), indicators.DIMENSION_WEIGHTS[d])
                for d in indicators.dimensions_of(direction)
            ),
            1.0,
        )
        for direction in indicators.DIRECTIONS
    )
    last = max(at for *_rest, at in states)
    age = max(0.0, (now - last).total_seconds())
    trust = CARRY_OVER * decay_factor(age, settings.half_life.total_seconds())
    return discount(Opinion.dogmatic(trust, 0.5), overall)
