"""API endpoints for engagements; the same selectors and policy as the pages."""

from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor
from confiance.engagements import selectors
from confiance.engagements.models import Engagement, EngagementStatus

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
