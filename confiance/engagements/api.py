"""API endpoints for engagements; the same selectors and policy as the pages."""

from datetime import date, datetime

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor, caller, engagement_for, require
from confiance.engagements import selectors, stops
from confiance.engagements.models import Engagement, EngagementStatus, StopRequest

router = Router(tags=["engagements"])


class EngagementOut(Schema):
    id: int
    title: str
    reference: str
    status: str
    client_id: int
    client_name: str
    contact_origin: str
    start_date: date | None
    end_date: date | None
    lead_name: str | None

    @staticmethod
    def resolve_client_name(obj: Engagement) -> str:
        return obj.client.name

    @staticmethod
    def resolve_lead_name(obj: Engagement) -> str | None:
        return obj.lead.get_full_name() if obj.lead else None


@router.get("", response=list[EngagementOut], summary="Engagements you may see")
@paginate(Cursor)
def list_engagements(
    request: HttpRequest, status: EngagementStatus | None = None, client_id: int | None = None
) -> object:
    return selectors.engagement_list(
        fetched_by=request.auth,  # type: ignore[attr-defined]
        status=status or "",
        client_id=client_id,
    )


@router.get("/{engagement_id}", response=EngagementOut, summary="One engagement")
def get_engagement(request: HttpRequest, engagement_id: int) -> Engagement:
    return access.get_engagement(request.auth, engagement_id)  # type: ignore[attr-defined]


# Either side may stop: the client asks with its reason, the provider answers ----------------


class StopRequestOut(Schema):
    id: int
    asked_by: str
    asked_at: datetime
    reason: str
    # A plain string: ninja would name the enum "State", as other models' states already are.
    state: str = Field(..., description="pending, accepted or declined")
    answered_by: str | None
    answered_at: datetime | None
    answer: str

    @staticmethod
    def resolve_asked_by(obj: StopRequest) -> str:
        return obj.asked_by.get_full_name()

    @staticmethod
    def resolve_answered_by(obj: StopRequest) -> str | None:
        return obj.answered_by.get_full_name() if obj.answered_by else None


class StopRequestIn(Schema):
    reason: str


class StopAnswerIn(Schema):
    accept: bool
    answer: str = ""


@router.get(
    "/{engagement_id}/stop-requests",
    response=list[StopRequestOut],
    summary="Requests to stop early and their answers (both sides)",
)
def list_stop_requests(request: HttpRequest, engagement_id: int) -> list[StopRequest]:
    engagement = engagement_for(request, engagement_id)
    return list(engagement.stop_requests.select_related("asked_by", "answered_by").order_by("-id"))


@router.post(
    "/{engagement_id}/stop-requests",
    response={201: StopRequestOut},
    summary="Ask to stop the engagement early, saying why (the client's contacts)",
)
def ask_to_stop(
    request: HttpRequest, engagement_id: int, data: StopRequestIn
) -> tuple[int, StopRequest]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.is_client_of(membership, engagement))
    return 201, stops.stop_request_create(
        membership=membership, engagement=engagement, reason=data.reason
    )


@router.post(
    "/{engagement_id}/stop-requests/{request_id}/answer",
    response=StopRequestOut,
    summary="Accept (the engagement stops early) or decline with a reason (the provider)",
)
def answer_stop_request(
    request: HttpRequest, engagement_id: int, request_id: int, data: StopAnswerIn
) -> StopRequest:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_manage_engagements(membership))
    stop = engagement.stop_requests.filter(pk=request_id).first()
    if stop is None:
        raise Http404
    return stops.stop_request_answer(
        membership=membership, stop_request=stop, accept=data.accept, answer=data.answer
    )
