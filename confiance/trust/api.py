"""API of trust: each direction the caller may see, every figure with its uncertainty band and
the facts that moved it most (a score without its reasons is not given), and open alerts for
the provider's people. The client sees client→provider trust only, as on the page.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from confiance import access
from confiance.api.common import caller, engagement_for, require
from confiance.trust import selectors
from confiance.trust.selectors import ExplainedFact, Figure

router = Router(tags=["trust"])


class FactOut(Schema):
    label: str
    dimension: str
    at: datetime
    positive: bool
    weight: float = Field(..., description="Weight decayed to now.")
    reason: str


class OpinionOut(Schema):
    belief: float
    disbelief: float
    uncertainty: float
    base_rate: float


class FigureOut(Schema):
    key: str
    label: str
    projected: int = Field(..., description="Projected probability, in percent.")
    low: int = Field(..., description="Lower end of the band, in percent.")
    high: int = Field(..., description="Upper end of the band, in percent.")
    uncertainty: int = Field(..., description="In percent.")
    opinion: OpinionOut
    reasons: list[FactOut]


class AlertOut(Schema):
    id: int
    kind: str
    direction: str
    opened_at: datetime
    reason: str
    who_should_act: str


class DirectionOut(Schema):
    direction: str = Field(..., description="c2p: client→provider; p2c: provider→client")
    label: str
    overall: FigureOut
    dimensions: list[FigureOut]
    alerts: list[AlertOut] = Field(..., description="Open alerts; the provider's people only.")


class TrustOut(Schema):
    base_rate: float
    contact_origin: str
    half_life_days: int
    directions: list[DirectionOut]


def _fact(fact: ExplainedFact) -> FactOut:
    return FactOut(
        label=fact.label,
        dimension=fact.dimension,
        at=fact.at,
        positive=fact.positive,
        weight=fact.weight,
        reason=fact.reason,
    )


def _figure(figure: Figure) -> FigureOut:
    o = figure.opinion
    return FigureOut(
        key=figure.key,
        label=figure.label,
        projected=figure.projected,
        low=figure.low,
        high=figure.high,
        uncertainty=figure.uncertainty,
        opinion=OpinionOut(
            belief=o.belief, disbelief=o.disbelief, uncertainty=o.uncertainty, base_rate=o.base_rate
        ),
        reasons=[_fact(f) for f in figure.reasons],
    )


@router.get(
    "/{engagement_id}/trust",
    response=TrustOut,
    summary="Trust per direction and dimension, with uncertainty and explanation",
)
def get_trust(request: HttpRequest, engagement_id: int) -> TrustOut:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(bool(access.trust_directions(membership, engagement)))
    trust = selectors.engagement_trust(fetched_by=membership, engagement=engagement)
    return TrustOut(
        base_rate=trust.base_rate,
        contact_origin=trust.origin_label,
        half_life_days=trust.half_life_days,
        directions=[
            DirectionOut(
                direction=d.direction,
                label=d.label,
                overall=_figure(d.overall),
                dimensions=[_figure(f) for f in d.dimensions],
                alerts=[
                    AlertOut(
                        id=a.pk,
                        kind=a.kind,
                        direction=a.direction,
                        opened_at=a.opened_at,
                        reason=a.reason,
                        who_should_act=a.who_should_act,
                    )
                    for a in d.alerts
                ],
            )
            for d in trust.directions
        ],
    )
