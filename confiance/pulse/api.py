"""API of the pulse: the rounds of an engagement with each side's means as the privacy rule
allows (closed rounds with at least three answers, or a one-person side's signed answer), and
answering the open round. Individual answers are never listed; your own answer is yours.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from confiance import access
from confiance.api.common import caller, engagement_for, require
from confiance.pulse import selectors, services
from confiance.pulse.models import PulseSurvey

router = Router(tags=["pulse"])

Score = Field(..., ge=1, le=5)


class SideOut(Schema):
    side: str
    asked: int
    answered: int
    visible: bool = Field(..., description="Whether the means may be shown (privacy rule).")
    means: dict[str, float] = Field(..., description="Empty unless visible.")
    signed_by: str = ""
    signed_comment: str = ""


class RoundOut(Schema):
    id: int
    opened_at: datetime
    closes_at: datetime
    is_open: bool
    sides: list[SideOut]


class MyAnswerOut(Schema):
    common_language: int
    common_vision: int
    discretion: int
    receptivity: int
    proximity: int
    comment: str
    signed: bool
    answered_at: datetime


class PulseOut(Schema):
    viewer_side: str | None
    open_round_id: int | None
    asked: bool = Field(..., description="You are asked in the open round.")
    may_sign: bool = Field(..., description="You are alone on your side: you may sign.")
    my_answer: MyAnswerOut | None
    rounds: list[RoundOut]


class AnswerIn(Schema):
    common_language: int = Score
    common_vision: int = Score
    discretion: int = Score
    receptivity: int = Score
    proximity: int = Score
    comment: str = ""
    signed: bool = False


def _out(request: HttpRequest, engagement_id: int) -> PulseOut:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_see_pulse(membership, engagement))
    page = selectors.pulse_page(fetched_by=membership, engagement=engagement)
    return PulseOut(
        viewer_side=page.viewer_side,
        open_round_id=page.open_round.pk if page.open_round else None,
        asked=page.asked,
        may_sign=page.one_person_side,
        my_answer=page.my_answer,  # type: ignore[arg-type]
        rounds=[
            RoundOut(
                id=r.survey.pk,
                opened_at=r.survey.opened_at,
                closes_at=r.survey.closes_at,
                is_open=r.is_open,
                sides=[
                    SideOut(
                        side=s.side,
                        asked=s.asked,
                        answered=s.answered,
                        visible=s.visible,
                        means=s.means if s.visible else {},
                        signed_by=s.signed_by,
                        signed_comment=s.signed_comment,
                    )
                    for s in r.sides
                ],
            )
            for r in page.rounds
        ],
    )


@router.get(
    "/{engagement_id}/pulse",
    response=PulseOut,
    summary="Pulse rounds with each side's means as the privacy rule allows, and your answer",
)
def get_pulse(request: HttpRequest, engagement_id: int) -> PulseOut:
    return _out(request, engagement_id)


@router.post(
    "/{engagement_id}/pulse/rounds/{round_id}/answer",
    response=PulseOut,
    summary="Answer the open round, or change your answer while it is open (those asked)",
)
def answer_pulse(
    request: HttpRequest, engagement_id: int, round_id: int, data: AnswerIn
) -> PulseOut:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_see_pulse(membership, engagement))
    survey = PulseSurvey.objects.filter(engagement=engagement, pk=round_id).first()
    if survey is None or not survey.invitees.filter(user_id=membership.user_id).exists():
        raise Http404
    services.pulse_answer_submit(
        membership=membership,
        survey=survey,
        answer=services.AnswerInput(**data.dict()),
    )
    return _out(request, engagement_id)
