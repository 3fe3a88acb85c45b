"""Writes of problems: raise, acknowledge, own, plan, escalate, update, pause, resolve, confirm.

Each step appends a ProblemEvent (the timeline, append-only), is audited, and the status
changes the client relies on go into the engagement's ledger. Rule on *proactive*: a problem
raised by the provider's own people is proactive, since the provider saw it before the client
reported it (had the client reported it, the client would have raised it); a problem raised by
a client contact never is.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.attachments import attachment_check, attachment_store
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Membership, Role, User, Workspace
from confiance.core.notices import notify, notify_on_commit
from confiance.core.queries import Prepared
from confiance.engagements.models import Engagement
from confiance.ledger.services import ledger_append
from confiance.problems import clock
from confiance.problems.models import (
    MAX_LEVEL,
    ClientEscalationContact,
    EventKind,
    Problem,
    ProblemAttachment,
    ProblemBreach,
    ProblemComment,
    ProblemEvent,
    ProblemSettings,
    ProblemStatus,
    Severity,
)

MAX_UPDATE_LENGTH = 500
MAX_COMMENT_LENGTH = 4000


def problem_settings_for(workspace: Workspace | int) -> ProblemSettings:
    """The workspace's SLA targets, created with the defaults on first use."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    settings, _created = ProblemSettings.objects.get_or_create(workspace_id=workspace_id)
    return settings


def _event(problem: Problem, kind: str, actor: User, at: datetime, **fields: Any) -> ProblemEvent:
    return ProblemEvent.objects.create(
        workspace_id=problem.workspace_id, problem=problem, kind=kind, actor=actor, at=at, **fields
    )


def _record(
    membership: Membership,
    problem: Problem,
    verb: str,
    ledger: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    told: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    audit_record(
        verb=f"problem.{verb}",
        actor=membership.user,
        workspace=membership.workspace,
        target=problem,
        data=data,
    )
    if ledger is not None:
        ledger_append(
            engagement=problem.engagement,
            kind=f"problem.{verb}",
            payload={"problem": problem.pk, "title": problem.title, **ledger},
            actor=membership.user,
        )
    if verb in TOLD_STEPS:
        _tell(membership, problem, verb, told or {}, at)


# Every shared step of a problem is told to both sides (the one who acted aside).
TOLD_STEPS = frozenset(
    {
        "raised",
        "acknowledged",
        "owner_named",
        "plan_shared",
        "escalated",
        "client_escalated",
        "update",
        "waiting_on_client",
        "resumed",
        "resolved",
        "closed",
        "reopened",
        "priority_set",
        "commented",
        "client_escalation",
    }
)


def problem_people(problem: Problem) -> list[int]:
    """Who hears of a problem's steps: the client's contacts, the lead (or, without one, the
    workspace owners), the owner, whoever raised it and the people it was escalated to."""
    engagement = problem.engagement
    ids = set(
        Membership.objects.filter(
            workspace_id=problem.workspace_id, role=Role.CLIENT, client_id=engagement.client_id
        ).values_list("user_id", flat=True)
    )
    if engagement.lead_id is not None:
        ids.add(engagement.lead_id)
    else:
        ids |= set(
            Membership.objects.filter(
                workspace_id=problem.workspace_id, role=Role.OWNER
            ).values_list("user_id", flat=True)
        )
    ids |= {pk for pk in (problem.owner_id, problem.raised_by_id) if pk is not None}
    ids |= set(
        problem.events.filter(
            kind__in=(EventKind.ESCALATED, EventKind.CLIENT_ESCALATED), person__isnull=False
        ).values_list("person_id", flat=True)
    )
    return sorted(ids)


def _tell(
    membership: Membership,
    problem: Problem,
    verb: str,
    told: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Tell both sides of a step; `at` dates a step of the demo's story (no e-mail about it)."""
    from confiance.problems.tasks import problem_link

    notify_on_commit(
        workspace_id=problem.workspace_id,
        user_ids=[pk for pk in problem_people(problem) if pk != membership.user_id],
        kind=f"problem.{verb}",
        params={
            "title": problem.title,
            "engagement": problem.engagement.title,
            "who": membership.user.get_full_name(),
            "proactive": problem.proactive,
            **told,
        },
        link=problem_link(problem),
        at=at,
    )


def _provider_person(workspace_id: int, user: User | None, field: str) -> User:
    if (
        user is None
        or not user.memberships.filter(workspace_id=workspace_id, role__in=INTERNAL_ROLES).exists()
    ):
        raise ValidationError({field: _("Choose a person of the provider's side.")})
    return user


def _problem_person(problem: Problem, user: User | None, field: str, escalation: bool) -> User:
    """A provider person of the problem's engagement (or, to escalate, of the escalation chain)."""
    from confiance.problems.selectors import problem_people

    person = _provider_person(problem.workspace_id, user, field)
    people = problem_people(engagement=problem.engagement, escalation=escalation)
    if not people.filter(pk=person.pk).exists():
        raise ValidationError({field: _("Choose a person who takes part in this engagement.")})
    return person


def _require_handler(membership: Membership, problem: Problem) -> None:
    if not access.can_handle_problem(membership, problem.engagement):
        raise PermissionDenied


def _require_open(problem: Problem) -> None:
    if not problem.is_open:
        raise ValidationError(_("This problem is resolved; reopen it first."))


def _locked(problem: Problem) -> Problem:
    # Two people acting on one problem at once must not both acknowledge it.
    locked = Problem.objects.select_for_update().select_related("engagement__workspace")
    return locked.get(pk=problem.pk)


@transaction.atomic
def problem_raise(
    *,
    membership: Membership,
    engagement: Engagement,
    title: str,
    description: str = "",
    severity: str,
    client_priority: str = "",
    at: datetime | None = None,
) -> Problem:
    """Raise a problem on an engagement; the client side may say its priority at once.

    `at` (in this module): when a step happened; only the demo's story and tests set it, to
    tell a history (never user input); the pages, the API and imports act now."""
    if not access.can_raise_problem(membership, engagement):
        raise PermissionDenied
    errors: dict[str, str] = {}
    title = title.strip()
    if not title:
        errors["title"] = _("Give the problem a short title.")
    if severity not in Severity.values:
        errors["severity"] = _("Choose a severity.")
    client_side = access.is_client_of(membership, engagement)
    if client_priority and client_priority not in Severity.values:
        errors["client_priority"] = _("Choose a priority.")
    if errors:
        raise ValidationError(errors)
    now = at or timezone.now()
    problem = Problem.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        title=title,
        description=description.strip(),
        severity=severity,
        # The client's priority is the client's: the provider does not set it for them.
        client_priority=client_priority if client_side else "",
        raised_by=membership.user,
        raised_side=Problem.Side.CLIENT if client_side else Problem.Side.PROVIDER,
        proactive=not client_side,
        created_at=now,
    )
    _event(problem, EventKind.RAISED, membership.user, now, value=problem.client_priority)
    _record(
        membership,
        problem,
        "raised",
        ledger={"severity": severity, "side": problem.raised_side, "proactive": problem.proactive},
        at=at,
    )
    return problem


def _acknowledge(
    membership: Membership, problem: Problem, now: datetime, at: datetime | None = None
) -> None:
    problem.status = ProblemStatus.ACKNOWLEDGED
    problem.acknowledged_at = now
    problem.save(update_fields=["status", "acknowledged_at"])
    _event(problem, EventKind.ACKNOWLEDGED, membership.user, now)
    _record(membership, problem, "acknowledged", ledger={"status": problem.status}, at=at)


@transaction.atomic
def problem_acknowledge(
    *, membership: Membership, problem: Problem, at: datetime | None = None
) -> Problem:
    """The provider says it has seen the problem (stops the time-to-acknowledge clock)."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    if problem.status != ProblemStatus.RAISED:
        raise ValidationError(_("This problem was already acknowledged."))
    _acknowledge(membership, problem, at or timezone.now(), at)
    return problem


@transaction.atomic
def problem_owner_name(
    *, membership: Membership, problem: Problem, owner: User | None, at: datetime | None = None
) -> Problem:
    """Name the provider-side person who owns the problem; naming an owner acknowledges it."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    owner = _problem_person(problem, owner, "owner", escalation=False)
    now = at or timezone.now()
    if problem.status == ProblemStatus.RAISED:
        _acknowledge(membership, problem, now, at)
    problem.owner = owner
    problem.owner_named_at = problem.owner_named_at or now
    problem.save(update_fields=["owner", "owner_named_at"])
    _event(problem, EventKind.OWNER_NAMED, membership.user, now, person=owner)
    _record(
        membership,
        problem,
        "owner_named",
        ledger={"owner": owner.get_full_name()},
        told={"owner": owner.get_full_name()},
        at=at,
    )
    return problem


@transaction.atomic
def problem_plan_share(
    *, membership: Membership, problem: Problem, plan: str, at: datetime | None = None
) -> Problem:
    """Share the plan to solve the problem with both sides."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    plan = plan.strip()
    if not plan:
        raise ValidationError({"plan": _("Write the plan.")})
    problem.plan = plan
    problem.save(update_fields=["plan"])
    _event(problem, EventKind.PLAN_SHARED, membership.user, at or timezone.now(), text=plan)
    _record(membership, problem, "plan_shared", told={"text": plan[:1000]}, at=at)
    return problem


@transaction.atomic
def problem_escalate(
    *,
    membership: Membership,
    problem: Problem,
    level: int,
    person: User | None,
    at: datetime | None = None,
) -> ProblemEvent:
    """Escalate to level 1, 2 or 3 with the person at that level.

    Escalating before any target is missed is recorded as early (before_breach=True): a sign
    of good reaction, not a failure."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    if not 1 <= level <= MAX_LEVEL:
        raise ValidationError({"level": _("Choose level 1, 2 or 3.")})
    if level <= problem.level:
        raise ValidationError({"level": _("The problem is already at this level or above.")})
    person = _problem_person(problem, person, "person", escalation=True)
    now = at or timezone.now()
    events = list(problem.events.all())
    settings = problem_settings_for(problem.workspace_id)
    early = not clock.missed_so_far(problem, events, settings, now)
    problem.level = level
    problem.save(update_fields=["level"])
    event = _event(
        problem,
        EventKind.ESCALATED,
        membership.user,
        now,
        level=level,
        person=person,
        before_breach=early,
    )
    _record(
        membership,
        problem,
        "escalated",
        ledger={"level": level, "person": person.get_full_name(), "before_breach": early},
        told={"level": level, "person": person.get_full_name()},
        at=at,
    )
    return event


MAX_REASON_LENGTH = 2000


def client_escalation_target(problem: Problem, level: int) -> User:
    """Whom the provider's side answers a client's escalation with: the workspace's escalation
    contact for that level, else the engagement's lead, else the first of its owners."""
    settings = problem_settings_for(problem.workspace_id)
    candidates = [settings.level_person_id(level), problem.engagement.lead_id]
    internal = Membership.objects.filter(
        workspace_id=problem.workspace_id, role__in=INTERNAL_ROLES, user__is_active=True
    ).exclude(role=Role.FINANCE)
    for pk in candidates:
        if pk is not None and internal.filter(user_id=pk).exists():
            return User.objects.get(pk=pk)
    owner = internal.filter(role=Role.OWNER).select_related("user").order_by("pk").first()
    if owner is None:  # a workspace always keeps an owner; said plainly if it ever did not
        raise ValidationError(_("Nobody on the provider's side can receive an escalation."))
    return owner.user


@transaction.atomic
def problem_client_escalate(
    *, membership: Membership, problem: Problem, reason: str
) -> ProblemEvent:
    """The client's side escalates a problem itself, saying why.

    The problem goes one level up, the provider's person for that level (else the lead) is named
    and told, and so is everyone of both sides who follows the problem; the step is ledgered like
    the provider's own escalations. At the top level there is no one higher to tell: refused
    (comments still reach both sides), so repeated escalations cannot flood anyone."""
    problem = _locked(problem)
    if not access.can_escalate_problem_as_client(membership, problem.engagement):
        raise PermissionDenied
    _require_open(problem)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you escalate: the provider reads it.")})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("A reason is at most %(n)s characters.") % {"n": MAX_REASON_LENGTH}}
        )
    if problem.level >= MAX_LEVEL:
        raise ValidationError(
            _("This problem is already at the highest level (%(n)s): add a comment instead.")
            % {"n": MAX_LEVEL}
        )
    level = problem.level + 1
    person = client_escalation_target(problem, level)
    now = timezone.now()
    problem.level = level
    problem.save(update_fields=["level"])
    event = _event(
        problem,
        EventKind.CLIENT_ESCALATED,
        membership.user,
        now,
        level=level,
        person=person,
        text=reason,
    )
    _record(
        membership,
        problem,
        "client_escalated",
        ledger={"level": level, "person": person.get_full_name(), "reason": reason},
        told={"level": level, "person": person.get_full_name(), "text": reason[:1000]},
    )
    return event


@transaction.atomic
def problem_update_post(
    *, membership: Membership, problem: Problem, text: str, at: datetime | None = None
) -> ProblemEvent:
    """A short progress update: progress over perfection (restarts the update clock)."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Say where things stand, in a few words.")})
    if len(text) > MAX_UPDATE_LENGTH:
        raise ValidationError(
            {"text": _("Keep it short: %(n)d characters at most.") % {"n": MAX_UPDATE_LENGTH}}
        )
    now = at or timezone.now()
    if problem.status == ProblemStatus.RAISED:
        _acknowledge(membership, problem, now, at)
    problem.last_update_at = now
    problem.save(update_fields=["last_update_at"])
    event = _event(problem, EventKind.UPDATE, membership.user, now, text=text)
    _record(membership, problem, "update", told={"text": text}, at=at)
    return event


@transaction.atomic
def problem_wait_on_client(
    *, membership: Membership, problem: Problem, text: str = "", at: datetime | None = None
) -> Problem:
    """The provider waits on the client for something specific (`text`, the question asked):
    clocks pause, for at most sla.MAX_PAUSE."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    if not text.strip():
        raise ValidationError(
            {"text": _("Say what the client was asked: only a specific question pauses the clock.")}
        )
    if problem.waiting_on_client:
        raise ValidationError(_("The problem is already waiting on the client."))
    problem.waiting_on_client = True
    problem.save(update_fields=["waiting_on_client"])
    _event(
        problem,
        EventKind.WAITING_ON_CLIENT,
        membership.user,
        at or timezone.now(),
        text=text.strip(),
    )
    _record(
        membership,
        problem,
        "waiting_on_client",
        ledger={"waiting_on_client": True},
        told={"text": text.strip()[:1000]},
        at=at,
    )
    return problem


@transaction.atomic
def problem_resume(
    *, membership: Membership, problem: Problem, at: datetime | None = None
) -> Problem:
    """The wait on the client is over (either side says so): clocks run again."""
    problem = _locked(problem)
    engagement = problem.engagement
    if not (
        access.can_handle_problem(membership, engagement)
        or access.is_client_of(membership, engagement)
    ):
        raise PermissionDenied
    if not problem.waiting_on_client:
        raise ValidationError(_("The problem is not waiting on the client."))
    problem.waiting_on_client = False
    problem.save(update_fields=["waiting_on_client"])
    _event(problem, EventKind.RESUMED, membership.user, at or timezone.now())
    _record(membership, problem, "resumed", ledger={"waiting_on_client": False}, at=at)
    return problem


@transaction.atomic
def problem_resolve(
    *, membership: Membership, problem: Problem, text: str = "", at: datetime | None = None
) -> Problem:
    """The provider considers the problem solved; the client confirms (or reopens)."""
    problem = _locked(problem)
    _require_handler(membership, problem)
    _require_open(problem)
    now = at or timezone.now()
    if problem.waiting_on_client:
        problem.waiting_on_client = False
        _event(problem, EventKind.RESUMED, membership.user, now)
    problem.status = ProblemStatus.RESOLVED
    problem.resolved_at = now
    problem.save(update_fields=["status", "resolved_at", "waiting_on_client"])
    _event(problem, EventKind.RESOLVED, membership.user, now, text=text.strip())
    _record(
        membership,
        problem,
        "resolved",
        ledger={"status": problem.status},
        told={"text": text.strip()[:1000]},
        at=at,
    )
    return problem


@transaction.atomic
def problem_confirm(
    *, membership: Membership, problem: Problem, at: datetime | None = None
) -> Problem:
    """The client confirms the resolution: the problem is closed. Only the client side may."""
    problem = _locked(problem)
    if not access.can_confirm_problem(membership, problem.engagement):
        raise PermissionDenied
    if problem.status != ProblemStatus.RESOLVED:
        raise ValidationError(_("Only a resolved problem can be confirmed."))
    now = at or timezone.now()
    problem.status = ProblemStatus.CLOSED
    problem.closed_at = now
    problem.save(update_fields=["status", "closed_at"])
    _event(problem, EventKind.CLOSED, membership.user, now)
    _record(membership, problem, "closed", ledger={"status": problem.status}, at=at)
    return problem


@transaction.atomic
def problem_reopen(
    *, membership: Membership, problem: Problem, text: str, at: datetime | None = None
) -> Problem:
    """The client says the problem is not solved after all; it goes back to the provider."""
    problem = _locked(problem)
    if not access.can_confirm_problem(membership, problem.engagement):
        raise PermissionDenied
    if problem.status not in (ProblemStatus.RESOLVED, ProblemStatus.CLOSED):
        raise ValidationError(_("Only a resolved or closed problem can be reopened."))
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Say what is still wrong.")})
    now = at or timezone.now()
    problem.status = ProblemStatus.ACKNOWLEDGED
    problem.resolved_at = None
    problem.closed_at = None
    # The update clock restarts from the reopening.
    problem.last_update_at = now
    problem.save(update_fields=["status", "resolved_at", "closed_at", "last_update_at"])
    _event(problem, EventKind.REOPENED, membership.user, now, text=text)
    _record(
        membership,
        problem,
        "reopened",
        ledger={"status": problem.status, "reason": text},
        told={"text": text[:1000]},
        at=at,
    )
    return problem


@transaction.atomic
def problem_priority_set(
    *, membership: Membership, problem: Problem, priority: str, at: datetime | None = None
) -> Problem:
    """The client side says how much the problem matters to it."""
    problem = _locked(problem)
    if not access.can_set_client_priority(membership, problem.engagement):
        raise PermissionDenied
    if priority not in Severity.values:
        raise ValidationError({"priority": _("Choose a priority.")})
    now = at or timezone.now()
    problem.client_priority = priority
    problem.save(update_fields=["client_priority"])
    _event(problem, EventKind.PRIORITY_SET, membership.user, now, value=priority)
    # The new targets run from now (clock.targets): both sides are told when each is due.
    due = [
        {"kind": t.kind, "at": t.due_at.isoformat()}
        for t in clock.targets(
            problem, list(problem.events.all()), problem_settings_for(problem.workspace_id), now
        )
        if t.due_at is not None and not t.breached
    ]
    _record(
        membership,
        problem,
        "priority_set",
        ledger={"client_priority": priority},
        told={"priority": priority, "due": due},
        at=at,
    )
    return problem


@transaction.atomic
def problem_comment_add(*, membership: Membership, problem: Problem, text: str) -> ProblemComment:
    """An internal comment of the provider's people; never shown to the client."""
    if not access.can_see_problem_comments(membership) or (
        problem.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the comment.")})
    comment = ProblemComment.objects.create(
        workspace_id=problem.workspace_id, problem=problem, author=membership.user, text=text
    )
    audit_record(
        verb="problem.comment",
        actor=membership.user,
        workspace=membership.workspace,
        target=comment,
    )
    return comment


def attachment_dir() -> Path:
    """Where problems' attachments live: under var/, outside the static and web roots."""
    return Path(django_settings.PROBLEM_ATTACHMENT_DIR)


@transaction.atomic
def problem_comment_share(
    *,
    membership: Membership,
    problem: Problem,
    text: str,
    attachment: UploadedFile | None = None,
) -> ProblemComment:
    """A comment both sides read (with an optional file), told to both sides."""
    problem = _locked(problem)
    if not access.can_discuss_problem(membership, problem.engagement):
        raise PermissionDenied
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Write the comment.")})
    if len(text) > MAX_COMMENT_LENGTH:
        raise ValidationError(
            {"text": _("A comment is at most %(n)s characters.") % {"n": MAX_COMMENT_LENGTH}}
        )
    checked = (
        attachment_check(attachment, max_bytes=django_settings.PROBLEM_ATTACHMENT_MAX_BYTES)
        if attachment is not None
        else None
    )
    now = timezone.now()
    comment = ProblemComment.objects.create(
        workspace_id=problem.workspace_id,
        problem=problem,
        author=membership.user,
        text=text,
        shared=True,
        created_at=now,
    )
    told: dict[str, Any] = {"text": text[:1000]}
    if checked is not None:
        stored = attachment_store(attachment_dir(), problem.workspace_id, checked)
        ProblemAttachment.objects.create(
            workspace_id=problem.workspace_id,
            problem=problem,
            comment=comment,
            name=checked.name,
            content_type=checked.content_type,
            size=stored.size,
            path=stored.path,
            sha256=stored.sha256,
            created_at=now,
        )
        told["file"] = checked.name
    _event(problem, EventKind.COMMENTED, membership.user, now, text=text[:200])
    _record(membership, problem, "commented", data={"comment": comment.pk}, told=told)
    return comment


def client_escalation_contact(engagement: Engagement) -> ClientEscalationContact | None:
    """The person on the client's side the engagement's problems escalate to, if named."""
    return (
        ClientEscalationContact.objects.filter(engagement_id=engagement.pk)
        .select_related("person")
        .first()
    )


@transaction.atomic
def problem_client_escalation_set(
    *, membership: Membership, engagement: Engagement, person: User | None
) -> ClientEscalationContact:
    """The client's side names who, on its side, hears of every escalation and missed target."""
    from confiance.engagements.selectors import engagement_people

    if not access.can_name_client_escalation(membership, engagement):
        raise PermissionDenied
    people = engagement_people(engagement=engagement, side="client")
    if person is None or not people.filter(pk=person.pk).exists():
        raise ValidationError({"person": _("Choose a contact of your side of this engagement.")})
    contact, _created = ClientEscalationContact.objects.update_or_create(
        engagement=engagement,
        defaults={
            "workspace_id": engagement.workspace_id,
            "person": person,
            "set_by": membership.user,
            "set_at": timezone.now(),
        },
    )
    audit_record(
        verb="problem.client_escalation",
        actor=membership.user,
        workspace=membership.workspace,
        target=contact,
        data={"person": person.email},
    )
    ledger_append(
        engagement=engagement,
        kind="problem.client_escalation",
        payload={"person": person.get_full_name()},
        actor=membership.user,
    )
    # Both sides learn who it is: the provider's lead (or owners) and the client's contacts.
    from confiance.problems.tasks import engagement_problems_link

    people_told = set(people.values_list("pk", flat=True))
    if engagement.lead_id is not None:
        people_told.add(engagement.lead_id)
    else:
        people_told |= set(
            Membership.objects.filter(
                workspace_id=engagement.workspace_id, role=Role.OWNER
            ).values_list("user_id", flat=True)
        )
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=sorted(people_told - {membership.user_id}),
        kind="problem.client_escalation",
        params={
            "engagement": engagement.title,
            "who": membership.user.get_full_name(),
            "person": person.get_full_name(),
        },
        link=engagement_problems_link(engagement),
    )
    return contact


@transaction.atomic
def problem_settings_update(
    *,
    membership: Membership,
    acknowledge_minutes: int,
    owner_minutes: int,
    update_minutes: int,
    level1: User | None = None,
    level2: User | None = None,
    level3: User | None = None,
) -> ProblemSettings:
    """Set the workspace's SLA targets and escalation contacts (the owner only)."""
    if not access.can_manage_problem_settings(membership):
        raise PermissionDenied
    errors = {
        name: _("A target is a positive number of minutes.")
        for name, value in (
            ("acknowledge_minutes", acknowledge_minutes),
            ("owner_minutes", owner_minutes),
            ("update_minutes", update_minutes),
        )
        if value <= 0
    }
    if errors:
        raise ValidationError(errors)
    for name, person in (("level1", level1), ("level2", level2), ("level3", level3)):
        if person is not None:
            _provider_person(membership.workspace_id, person, name)
    settings = ProblemSettings.objects.select_for_update().get(
        pk=problem_settings_for(membership.workspace).pk
    )
    settings.acknowledge_minutes = acknowledge_minutes
    settings.owner_minutes = owner_minutes
    settings.update_minutes = update_minutes
    settings.level1, settings.level2, settings.level3 = level1, level2, level3
    settings.save()
    audit_record(
        verb="problem_settings.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=settings,
        data={
            "acknowledge_minutes": acknowledge_minutes,
            "owner_minutes": owner_minutes,
            "update_minutes": update_minutes,
        },
    )
    return settings


# Breaches ----------------------------------------------------------------------------------


def breach_recipients(problem: Problem, settings: ProblemSettings) -> list[User]:
    """Who hears of a missed target: the owner (the lead, or the workspace owners, while
    nobody owns it) and the person at the next escalation level (the owners, when unset)."""
    owners = list(
        User.objects.filter(
            memberships__workspace_id=problem.workspace_id,
            memberships__role=Role.OWNER,
            is_active=True,
        )
    )
    people: list[User] = []
    if problem.owner is not None:
        people.append(problem.owner)
    elif problem.engagement.lead is not None:
        people.append(problem.engagement.lead)
    else:
        people += owners
    next_level = problem.level + 1
    if next_level <= MAX_LEVEL:
        person_id = settings.level_person_id(next_level)
        if person_id is not None:
            people.append(User.objects.get(pk=person_id))
        else:
            people += owners
    contact = client_escalation_contact(problem.engagement)
    if contact is not None:  # missed targets reach the client's side too, through its contact
        people.append(contact.person)
    unique: dict[int, User] = {}
    for person in people:
        if person.is_active:
            unique.setdefault(person.pk, person)
    return list(unique.values())


# Whether any problem is open anywhere, compiled once per process (core.queries.Prepared): the
# query below joins and prefetches, which costs more to build than to run on an empty answer.
_ANY_OPEN = Prepared(
    lambda: (
        Problem.objects.filter(status__in=[ProblemStatus.RAISED, ProblemStatus.ACKNOWLEDGED])
        .order_by()
        .values_list("pk")[:1]
    )
)


def problem_breaches_check(
    *,
    now: datetime | None = None,
    engagement: Engagement | None = None,
    in_history: bool = False,
) -> list[ProblemBreach]:
    """Record every newly missed target of open problems and notify it, once per breach.

    `engagement`: check only its problems. `in_history`: the check is told after the fact (the
    demo's story, checked as the worker would have at `now`): notices carry `now`, no e-mail."""
    now = now or timezone.now()
    new: list[ProblemBreach] = []
    if engagement is None and not _ANY_OPEN.rows():
        return new  # the daily check of a portfolio without an open problem: one cheap query
    problems = Problem.objects.filter(status__in=[ProblemStatus.RAISED, ProblemStatus.ACKNOWLEDGED])
    if engagement is not None:
        problems = problems.filter(engagement=engagement)
    problems = (
        problems.select_related("engagement__lead", "owner", "workspace")
        .prefetch_related("events")
        .order_by("pk")
    )
    settings_by_ws: dict[int, ProblemSettings] = {}
    for problem in problems:
        settings = settings_by_ws.get(problem.workspace_id)
        if settings is None:
            settings = settings_by_ws[problem.workspace_id] = problem_settings_for(
                problem.workspace_id
            )
        for target in clock.targets(problem, list(problem.events.all()), settings, now):
            # Only what is still undone is worth telling; a late step already done is history.
            if target.breached and target.done_at is None:
                breach = _breach_record(
                    problem, settings, target.kind, target.anchor, now, in_history
                )
                if breach is not None:
                    new.append(breach)
    return new


@transaction.atomic
def _breach_record(
    problem: Problem,
    settings: ProblemSettings,
    kind: str,
    anchor: datetime,
    now: datetime,
    in_history: bool = False,
) -> ProblemBreach | None:
    if ProblemBreach.objects.filter(problem=problem, kind=kind, anchor=anchor).exists():
        return None
    recipients = breach_recipients(problem, settings)
    try:
        with transaction.atomic():
            breach = ProblemBreach.objects.create(
                workspace_id=problem.workspace_id,
                problem=problem,
                kind=kind,
                anchor=anchor,
                detected_at=now,
                notified_ids=[u.pk for u in recipients],
            )
    except IntegrityError:  # another checker recorded it first
        return None
    from django.urls import reverse

    link = reverse(
        "problem-detail",
        kwargs={
            "ws": problem.workspace.slug,
            "pk": problem.engagement_id,
            "problem_id": problem.pk,
        },
    )
    # The notices belong to the breach's transaction; their e-mails leave once it commits.
    notify(
        workspace_id=problem.workspace_id,
        users=recipients,
        kind="problem.breach",
        params={"title": problem.title, "engagement": problem.engagement.title, "kind": kind},
        link=link,
        defer_email=True,
        at=now if in_history else None,
    )
    audit_record(
        verb="problem.breach",
        actor=None,
        workspace=problem.workspace,
        target=problem,
        data={"kind": kind, "notified": [u.email for u in recipients]},
    )
    return breach
