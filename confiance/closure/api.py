"""API of the closure: the analysis both sides see, with its hash, and the client's approval.

The approval carries the hash of the analysis the client read (`analysis_hash` from the GET):
if the analysis changed since, it is refused, as on the page.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema

from confiance import access
from confiance.api.common import caller, engagement_for, require
from confiance.closure import selectors, services
from confiance.closure.models import Closure

router = Router(tags=["closure"])


class ApprovalOut(Schema):
    approved_by: str
    approved_at: datetime
    analysis_hash: str
    ledger_index: int
    valid: bool = Field(..., description="False once the analysis changed after it.")


class ClosureOut(Schema):
    outcome: str
    stop_reason: str
    started_at: datetime
    all_assessed: bool
    analysis: dict[str, Any] = Field(..., description="What the approval's hash covers.")
    analysis_hash: str = Field(..., description="SHA-256 of the analysis's canonical JSON.")
    approval: ApprovalOut | None


class ApproveIn(Schema):
    analysis_hash: str = Field(..., description="The hash of the analysis you read.")


def _closure(request: HttpRequest, engagement_id: int) -> Closure:
    engagement = engagement_for(request, engagement_id)
    closure = selectors.closure_of(fetched_by=caller(request), engagement=engagement)
    if closure is None:
        raise Http404
    return closure


def _out(request: HttpRequest, closure: Closure) -> ClosureOut:
    view = selectors.closure_view(fetched_by=caller(request), closure=closure)
    latest = view.approval.approval
    return ClosureOut(
        outcome=closure.outcome,
        stop_reason=closure.stop_reason,
        started_at=closure.started_at,
        all_assessed=view.all_assessed,
        analysis=view.data,
        analysis_hash=view.approval.current_hash,
        approval=None
        if latest is None
        else ApprovalOut(
            approved_by=latest.approved_by.get_full_name(),
            approved_at=latest.approved_at,
            analysis_hash=latest.analysis_hash,
            ledger_index=latest.ledger_index,
            valid=view.approval.valid,
        ),
    )


@router.get(
    "/{engagement_id}/closure",
    response=ClosureOut,
    summary="The closure analysis and its approval (404 before the closure starts)",
)
def get_closure(request: HttpRequest, engagement_id: int) -> ClosureOut:
    return _out(request, _closure(request, engagement_id))


@router.post(
    "/{engagement_id}/closure/approval",
    response={201: ClosureOut},
    summary="Approve the analysis for payment (the client's contacts)",
)
def approve_closure(
    request: HttpRequest, engagement_id: int, data: ApproveIn
) -> tuple[int, ClosureOut]:
    membership = caller(request)
    closure = _closure(request, engagement_id)
    require(access.can_approve_closure(membership, closure.engagement))
    services.closure_approve(membership=membership, closure=closure, seen_hash=data.analysis_hash)
    return 201, _out(request, _closure(request, engagement_id))
