"""API of the common language and vision: read them, propose a term or a vision, agree to the
other side's proposal. The same selectors and services as the page (confiance/alignment/views):
both sides read (finance too); the owner, consultants and the client's contacts write.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from confiance.alignment import selectors, services
from confiance.alignment.models import GlossaryEntry, Side, State, Vision
from confiance.alignment.selectors import CommonGround
from confiance.api.common import caller, engagement_for

router = Router(tags=["common language and vision"])


def _name(user: object) -> str | None:
    return user.get_full_name() if user is not None else None  # type: ignore[attr-defined]


class ProposalOut(Schema):
    id: int
    state: State
    proposed_by: str
    proposed_side: Side
    proposed_at: datetime
    agreed_by: str | None
    agreed_at: datetime | None
    replaces_id: int | None

    @staticmethod
    def resolve_proposed_by(obj: GlossaryEntry | Vision) -> str:
        return obj.proposed_by.get_full_name()

    @staticmethod
    def resolve_agreed_by(obj: GlossaryEntry | Vision) -> str | None:
        return _name(obj.agreed_by)


class TermOut(ProposalOut):
    term: str
    meaning: str


class VisionOut(ProposalOut):
    problem: str
    outcome: str
    success: str


class CommonOut(Schema):
    your_side: Side | None = Field(
        None, description="The side you propose and agree for; null: you read only."
    )
    glossary: list[TermOut] = Field(description="Terms both sides agreed to.")
    proposals: list[TermOut] = Field(description="Terms awaiting the other side.")
    vision: VisionOut | None = Field(None, description="The shared vision both sides accepted.")
    vision_proposal: VisionOut | None = Field(
        None, description="A vision (or a change) awaiting the other side."
    )
    history: list[VisionOut] = Field(description="Earlier shared visions, newest first.")

    @staticmethod
    def resolve_your_side(obj: CommonGround) -> str | None:
        return obj.viewer_side


class TermIn(Schema):
    term: str = ""
    meaning: str = ""


class MeaningIn(Schema):
    meaning: str = ""


class VisionIn(Schema):
    problem: str = Field("", description="The problem we solve")
    outcome: str = Field("", description="The outcome we hope for")
    success: str = Field("", description="How success will be judged")


@router.get(
    "/{engagement_id}/common",
    response=CommonOut,
    summary="The glossary and the shared vision, with what awaits an answer",
)
def get_common_ground(request: HttpRequest, engagement_id: int) -> CommonGround:
    return selectors.common_ground(
        fetched_by=caller(request), engagement=engagement_for(request, engagement_id)
    )


@router.post(
    "/{engagement_id}/common/glossary",
    response={201: TermOut},
    summary="Propose a term and its meaning; the other side agrees to it",
)
def propose_term(request: HttpRequest, engagement_id: int, data: TermIn) -> tuple[int, object]:
    entry = services.glossary_propose(
        membership=caller(request),
        engagement=engagement_for(request, engagement_id),
        term=data.term,
        meaning=data.meaning,
    )
    return 201, entry


@router.post(
    "/{engagement_id}/common/glossary/{entry_id}/change",
    response={201: TermOut},
    summary="Propose a new meaning for an agreed term; it replaces the old once agreed",
)
def propose_term_change(
    request: HttpRequest, engagement_id: int, entry_id: int, data: MeaningIn
) -> tuple[int, object]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    entry = selectors.glossary_entry(
        fetched_by=membership, engagement=engagement, entry_id=entry_id
    )
    proposal = services.glossary_propose(
        membership=membership,
        engagement=engagement,
        term=entry.term,
        meaning=data.meaning,
        replaces=entry,
    )
    return 201, proposal


@router.post(
    "/{engagement_id}/common/glossary/{entry_id}/agree",
    response=TermOut,
    summary="Agree to the other side's proposed meaning (ledgered, told to both sides)",
)
def agree_term(request: HttpRequest, engagement_id: int, entry_id: int) -> GlossaryEntry:
    membership = caller(request)
    entry = selectors.glossary_entry(
        fetched_by=membership,
        engagement=engagement_for(request, engagement_id),
        entry_id=entry_id,
    )
    return services.glossary_agree(membership=membership, entry=entry)


@router.post(
    "/{engagement_id}/common/vision",
    response={201: VisionOut},
    summary="Propose the shared vision (or a change to it); the other side accepts it",
)
def propose_vision(request: HttpRequest, engagement_id: int, data: VisionIn) -> tuple[int, object]:
    vision = services.vision_propose(
        membership=caller(request),
        engagement=engagement_for(request, engagement_id),
        problem=data.problem,
        outcome=data.outcome,
        success=data.success,
    )
    return 201, vision


@router.post(
    "/{engagement_id}/common/vision/{vision_id}/agree",
    response=VisionOut,
    summary="Accept the other side's proposed vision (ledgered, told to both sides)",
)
def agree_vision(request: HttpRequest, engagement_id: int, vision_id: int) -> Vision:
    membership = caller(request)
    vision = selectors.vision_get(
        fetched_by=membership,
        engagement=engagement_for(request, engagement_id),
        vision_id=vision_id,
    )
    return services.vision_agree(membership=membership, vision=vision)
