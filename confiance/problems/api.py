"""API of problems: raise, list, read with the timeline, and every step of their handling.

A step is POSTed as an action, checked and run exactly as the problem page does (the same table
of actions, the same forms, the same services). Internal comments only reach the provider.
Comments both sides read may carry a file (multipart upload), checked and stored like the
page's, and downloaded only by those who see the problem.
"""

# No `from __future__ import annotations` here: ninja resolves the annotations at runtime.

from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, UploadedFile
from ninja.pagination import paginate

from confiance import access
from confiance.api.common import Cursor, caller, engagement_for, require
from confiance.core.attachments import attachment_response
from confiance.problems import selectors, services
from confiance.problems.models import EventKind, Problem, ProblemEvent, ProblemStatus, Severity
from confiance.problems.views import ACTIONS, _form

router = Router(tags=["problems"])


class ProblemOut(Schema):
    id: int
    title: str
    description: str
    severity: Severity
    client_priority: str
    status: ProblemStatus
    proactive: bool
    raised_side: str
    raised_by: str
    owner_id: int | None
    owner_name: str | None
    level: int
    waiting_on_client: bool
    plan: str
    created_at: datetime
    acknowledged_at: datetime | None
    owner_named_at: datetime | None
    last_update_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None

    @staticmethod
    def resolve_raised_by(obj: Problem) -> str:
        return obj.raised_by.get_full_name()

    @staticmethod
    def resolve_owner_name(obj: Problem) -> str | None:
        return obj.owner.get_full_name() if obj.owner else None


class EventOut(Schema):
    id: int
    kind: EventKind
    actor: str
    at: datetime
    text: str
    person: str | None
    level: int | None
    before_breach: bool | None
    value: str

    @staticmethod
    def resolve_actor(obj: ProblemEvent) -> str:
        return obj.actor.get_full_name()

    @staticmethod
    def resolve_person(obj: ProblemEvent) -> str | None:
        return obj.person.get_full_name() if obj.person else None


class CommentOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: Any) -> str:
        return obj.author.get_full_name()


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int


class SharedCommentOut(CommentOut):
    attachments: list[AttachmentOut]

    @staticmethod
    def resolve_attachments(obj: Any) -> list[Any]:
        return list(obj.attachments.all())


class ProblemDetailOut(ProblemOut):
    events: list[EventOut]
    shared_comments: list[SharedCommentOut] = Field(
        default_factory=list, description="Comments both sides read, with their files."
    )
    comments: list[CommentOut] | None = Field(
        None, description="Internal comments: only for the provider's people."
    )
    client_escalation_contact: str | None = Field(
        None, description="Who hears of escalations and missed targets on the client's side."
    )

    @staticmethod
    def resolve_shared_comments(obj: Problem) -> list[Any]:
        return obj.view.shared  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_client_escalation_contact(obj: Problem) -> str | None:
        contact = obj.view.client_contact  # type: ignore[attr-defined]
        return contact.person.get_full_name() if contact else None

    @staticmethod
    def resolve_events(obj: Problem) -> list[ProblemEvent]:
        return obj.view.events  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_comments(obj: Problem) -> list[Any] | None:
        return obj.view.comments  # type: ignore[attr-defined,no-any-return]


class ProblemFilters(Schema):
    status: ProblemStatus | None = None
    severity: Severity | None = None


class RaiseIn(Schema):
    title: str = Field(..., max_length=200)
    description: str = ""
    severity: Severity
    client_priority: Severity | Literal[""] = ""


class ActionIn(Schema):
    action: Literal[
        "acknowledge",
        "owner",
        "plan",
        "escalate",
        "client_escalate",
        "update",
        "wait",
        "resume",
        "resolve",
        "confirm",
        "reopen",
        "priority",
        "share",
        "comment",
    ]
    text: str = Field(
        "", description="update, wait, resolve, reopen, share (both sides), comment (internal)"
    )
    plan: str = Field("", description="plan")
    owner_id: int | None = Field(None, description="owner")
    level: int | None = Field(None, description="escalate: 1, 2 or 3")
    person_id: int | None = Field(None, description="escalate: the person at that level")
    priority: Severity | None = Field(None, description="priority (the client's)")
    reason: str = Field("", description="client_escalate: why the client escalates (required)")


def _problem(request: HttpRequest, engagement_id: int, problem_id: int) -> Problem:
    return selectors.problem_get(
        fetched_by=caller(request),
        engagement=engagement_for(request, engagement_id),
        problem_id=problem_id,
    )


def _detail(request: HttpRequest, problem: Problem) -> Problem:
    """The problem with its timeline (and comments for the provider) from the page's selector."""
    problem.view = selectors.problem_view(fetched_by=caller(request), problem=problem)  # type: ignore[attr-defined]
    return problem


@router.get(
    "/{engagement_id}/problems",
    response=list[ProblemOut],
    summary="Problems raised on the engagement, newest first",
)
@paginate(Cursor)
def list_problems(
    request: HttpRequest, engagement_id: int, filters: Query[ProblemFilters]
) -> QuerySet[Problem]:
    engagement = engagement_for(request, engagement_id)
    problems = selectors.problem_list(fetched_by=caller(request), engagement=engagement)
    if filters.status is not None:
        problems = problems.filter(status=filters.status)
    if filters.severity is not None:
        problems = problems.filter(severity=filters.severity)
    return problems


@router.get(
    "/{engagement_id}/problems/{problem_id}",
    response=ProblemDetailOut,
    summary="One problem with its timeline (and, for the provider, internal comments)",
)
def get_problem(request: HttpRequest, engagement_id: int, problem_id: int) -> Problem:
    return _detail(request, _problem(request, engagement_id, problem_id))


@router.post(
    "/{engagement_id}/problems",
    response={201: ProblemDetailOut},
    summary="Raise a problem (either side; proactive when the provider raises it)",
)
def raise_problem(request: HttpRequest, engagement_id: int, data: RaiseIn) -> tuple[int, Problem]:
    membership = caller(request)
    engagement = engagement_for(request, engagement_id)
    require(access.can_raise_problem(membership, engagement))
    problem = services.problem_raise(
        membership=membership,
        engagement=engagement,
        title=data.title,
        description=data.description,
        severity=data.severity,
        client_priority=data.client_priority if access.is_client_of(membership, engagement) else "",
    )
    return 201, _detail(request, _problem(request, engagement_id, problem.pk))


@router.post(
    "/{engagement_id}/problems/{problem_id}/events",
    response=ProblemDetailOut,
    summary="Take a step: acknowledge, name the owner, escalate (either side), update, resolve…",
)
def problem_step(
    request: HttpRequest, engagement_id: int, problem_id: int, data: ActionIn
) -> Problem:
    """Each action is allowed to the same people as on the page (others: 404)."""
    membership = caller(request)
    problem = _problem(request, engagement_id, problem_id)
    spec = ACTIONS[data.action]
    if not spec.allowed(membership, problem.engagement):
        raise Http404
    fields = {
        "text": data.text,
        "plan": data.plan,
        "owner": data.owner_id,
        "level": data.level,
        "person": data.person_id,
        "priority": data.priority,
        "reason": data.reason,
    }
    form = _form(
        data.action,
        problem.engagement,
        {f"{data.action}-{k}": v for k, v in fields.items() if v not in (None, "")},
    )
    if not form.is_valid():
        names = {"owner": "owner_id", "person": "person_id"}
        raise ValidationError(
            {names.get(field, field): list(errors) for field, errors in form.errors.items()}
        )
    spec.run(membership, problem, form.cleaned_data)
    return _detail(request, _problem(request, engagement_id, problem_id))


@router.post(
    "/{engagement_id}/problems/{problem_id}/comments",
    response={201: SharedCommentOut},
    summary="Add a comment both sides read, with an optional file (multipart/form-data)",
    description="Files: PDF, images, text, CSV, office documents, checked by their content; "
    "too large or of another type: 400 with a field error on `attachment`, nothing stored.",
)
def add_problem_comment(
    request: HttpRequest,
    engagement_id: int,
    problem_id: int,
    text: Form[str] = "",
    attachment: File[UploadedFile | None] = None,
) -> tuple[int, Any]:
    membership = caller(request)
    problem = _problem(request, engagement_id, problem_id)
    require(access.can_discuss_problem(membership, problem.engagement))
    comment = services.problem_comment_share(
        membership=membership, problem=problem, text=text, attachment=attachment
    )
    return 201, comment


@router.get(
    "/{engagement_id}/problems/{problem_id}/attachments/{attachment_id}",
    summary="Download a file of a problem's comments (only for those who see the problem)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, as an attachment.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_problem_attachment(
    request: HttpRequest, engagement_id: int, problem_id: int, attachment_id: int
) -> FileResponse:
    problem = _problem(request, engagement_id, problem_id)
    attachment = selectors.attachment_get(
        fetched_by=caller(request), problem=problem, attachment_id=attachment_id
    )
    return attachment_response(
        services.attachment_dir(), attachment.path, attachment.name, attachment.content_type
    )
