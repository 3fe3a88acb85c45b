"""Reads of problems, starting from the engagements the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from confiance import access
from confiance.core.models import INTERNAL_ROLES, Membership, User
from confiance.engagements.models import Engagement
from confiance.problems import clock
from confiance.problems.models import (
    MAX_LEVEL,
    OPEN_STATUSES,
    ClientEscalationContact,
    Problem,
    ProblemAttachment,
    ProblemComment,
    ProblemEvent,
    ProblemSettings,
)
from confiance.problems.services import (
    client_escalation_contact,
    client_escalation_target,
    problem_settings_for,
)


def _visible(membership: Membership) -> QuerySet[Problem]:
    """Problems of the engagements the membership may see (the access policy's scope)."""
    return Problem.objects.filter(engagement__in=Engagement.objects.visible_to(membership))


def _rank(field: str) -> Case:
    """Critical 4 … low 1, unset 0: what matters most to the client comes first."""
    return Case(
        *(When(**{field: value}, then=Value(rank)) for value, rank in SEVERITY_RANK.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


SEVERITY_RANK = {"critical": 4, "high": 3, "medium": 2, "low": 1}


def problem_list(*, fetched_by: Membership, engagement: Engagement) -> QuerySet[Problem]:
    """The engagement's problems: open first, then by the client's priority (then severity),
    then newest, with what the list shows."""
    return (
        _visible(fetched_by)
        .filter(engagement_id=engagement.pk)
        .select_related("owner", "raised_by")
        .annotate(
            update_count=Count("events", filter=Q(events__kind="update")),
            client_rank=_rank("client_priority"),
            severity_rank=_rank("severity"),
        )
        .order_by("closed_at", "-client_rank", "-severity_rank", "-created_at", "-id")
    )


def problem_get(*, fetched_by: Membership, engagement: Engagement, problem_id: int) -> Problem:
    """One problem of an engagement the viewer may see, or 404."""
    problem = (
        _visible(fetched_by)
        .filter(engagement_id=engagement.pk, pk=problem_id)
        .select_related("owner", "raised_by", "engagement__workspace", "engagement__lead")
        .first()
    )
    if problem is None:
        raise Http404
    return problem


@dataclass
class ProblemView:
    problem: Problem
    events: list[ProblemEvent]
    comments: list[ProblemComment] | None  # None: the viewer may not see internal comments
    shared: list[ProblemComment]  # the conversation of both sides, with their files
    client_contact: ClientEscalationContact | None
    targets: list[clock.Target]
    since_last_update: timedelta | None
    settings: ProblemSettings
    now: datetime
    # For a client contact, on an open problem: who would answer their escalation.
    client_escalation_target: User | None = None


def problem_view(*, fetched_by: Membership, problem: Problem) -> ProblemView:
    """The problem's page: its timeline, SLA state and, for the provider, internal comments."""
    now = timezone.now()
    events = list(problem.events.select_related("actor", "person"))
    comments = None
    if access.can_see_problem_comments(fetched_by):
        comments = list(problem.comments.filter(shared=False).select_related("author"))
    shared = list(
        problem.comments.filter(shared=True)
        .select_related("author")
        .prefetch_related("attachments")
    )
    settings = problem_settings_for(problem.workspace_id)
    target = None
    can_escalate = problem.is_open and problem.level < MAX_LEVEL
    if can_escalate and access.can_escalate_problem_as_client(fetched_by, problem.engagement):
        try:
            target = client_escalation_target(problem, problem.level + 1)
        except ValidationError:
            target = None
    return ProblemView(
        problem=problem,
        events=events,
        comments=comments,
        shared=shared,
        client_contact=client_escalation_contact(problem.engagement),
        targets=clock.targets(problem, events, settings, now),
        since_last_update=clock.time_since_last_update(problem, now) if problem.is_open else None,
        settings=settings,
        now=now,
        client_escalation_target=target,
    )


def provider_people(*, workspace_id: int) -> QuerySet[User]:
    """The provider-side people of the workspace (owners, escalation contacts)."""
    return (
        User.objects.filter(
            memberships__workspace_id=workspace_id,
            memberships__role__in=INTERNAL_ROLES,
            is_active=True,
        )
        .order_by("full_name", "email")
        .distinct()
    )


def problem_people(*, engagement: Engagement, escalation: bool = False) -> QuerySet[User]:
    """Whom a problem's steps may name: the provider's people of its engagement, and for an
    escalation also the workspace's escalation contacts (the chain above the team)."""
    from confiance.engagements.selectors import engagement_people

    people = engagement_people(engagement=engagement, side="provider")
    if not escalation:
        return people
    settings = ProblemSettings.objects.filter(workspace_id=engagement.workspace_id).first()
    chain = (
        [pk for pk in (settings.level1_id, settings.level2_id, settings.level3_id) if pk]
        if (settings)
        else []
    )
    return (
        User.objects.filter(Q(pk__in=people.values("pk")) | Q(pk__in=chain), is_active=True)
        .distinct()
        .order_by("full_name", "email")
    )


def open_problem_count(*, fetched_by: Membership, engagement: Engagement) -> int:
    """How many of the engagement's problems are still open."""
    return (
        _visible(fetched_by).filter(engagement_id=engagement.pk, status__in=OPEN_STATUSES).count()
    )


def attachment_get(
    *, fetched_by: Membership, problem: Problem, attachment_id: int
) -> ProblemAttachment:
    """A file of a problem the viewer sees (problem_get checked that), or 404."""
    attachment = ProblemAttachment.objects.filter(problem=problem, pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return attachment
