"""Writes of the closure: start it (or stop early through it), assess objectives, write each
side's retrospective, and the client's approval for payment."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.closure import selectors
from confiance.closure.models import (
    Attainment,
    Closure,
    ClosureApproval,
    ObjectiveAssessment,
    Outcome,
    RetrospectiveContribution,
    Side,
)
from confiance.closure.tasks import notify_closure_approved
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Role
from confiance.core.notices import notify_on_commit
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement, EngagementStatus, Objective
from confiance.engagements.services import engagement_set_status
from confiance.ledger.services import ledger_append

CLOSABLE = (EngagementStatus.ACTIVE, EngagementStatus.PAUSED, EngagementStatus.STOPPED_EARLY)


def _client_contact_ids(engagement: Engagement) -> list[int]:
    return list(
        Membership.objects.filter(
            workspace_id=engagement.workspace_id, role=Role.CLIENT, client_id=engagement.client_id
        ).values_list("user_id", flat=True)
    )


def _tell_analysis_change(
    membership: Membership,
    closure: Closure,
    before: selectors.ClosureView,
    at: datetime | None = None,
) -> None:
    """After a change to the analysis: the client hears that it awaits their approval (the
    first time it is complete) or that their approval is void, with what changed. `at`: the
    moment of a change recorded in history (the demo's), told with its own date."""
    from django.urls import reverse

    after = selectors.closure_view(fetched_by=membership, closure=closure)
    engagement = closure.engagement
    link = reverse("closure", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk})
    if before.approval.valid and not after.approval.valid:
        approval = before.approval.approval
        assert approval is not None
        notify_on_commit(
            workspace_id=closure.workspace_id,
            user_ids=[*_client_contact_ids(engagement), approval.approved_by_id],
            kind="closure.voided",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "before": approval.analysis,
                "after": after.data,
            },
            link=link,
            at=at,
        )
    elif (
        after.all_assessed
        and not before.all_assessed
        and not after.approval.valid
        and membership.user_id not in _client_contact_ids(engagement)
    ):
        notify_on_commit(
            workspace_id=closure.workspace_id,
            user_ids=_client_contact_ids(engagement),
            kind="closure.awaiting",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "objectives": len(after.rows),
            },
            link=link,
            at=at,
        )


@transaction.atomic
def closure_start(
    *,
    membership: Membership,
    engagement: Engagement,
    outcome: str,
    reason: str = "",
    at: datetime | None = None,
) -> Closure:
    """Open the closure of an active or paused engagement, or of one stopped early.

    Choosing to stop early here is the same honest stop as on the engagement page: the
    engagement becomes "stopped early" with its reason, and the closure carries that reason.
    `at` (here and in the closure's other writes): when it happened; only the demo sets it.
    """
    if not access.can_run_closure(membership, engagement):
        raise PermissionDenied
    engagement = Engagement.objects.select_for_update().get(pk=engagement.pk)
    if Closure.objects.filter(engagement=engagement).exists():
        raise ValidationError(_("The closure of this engagement has already started."))
    if engagement.status not in CLOSABLE:
        raise ValidationError(_("Only an active, paused or stopped-early engagement is closed."))
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose how the engagement ends.")})
    already_stopped = engagement.status == EngagementStatus.STOPPED_EARLY
    if already_stopped and outcome != Outcome.STOPPED_EARLY:
        message = _("This engagement stopped early: its closure records it, with its reason.")
        raise ValidationError({"outcome": message})
    if outcome == Outcome.STOPPED_EARLY and not already_stopped:
        # The engagement's own service records who stopped it, when and why.
        engagement_set_status(
            membership=membership,
            engagement=engagement,
            status=EngagementStatus.STOPPED_EARLY,
            reason=reason,
            at=at,
        )
    closure = Closure.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        outcome=outcome,
        stop_reason=engagement.stop_reason if outcome == Outcome.STOPPED_EARLY else "",
        started_by=membership.user,
        started_at=at or timezone.now(),
    )
    audit_record(
        verb="closure.start",
        actor=membership.user,
        workspace=membership.workspace,
        target=closure,
        data={"outcome": outcome},
    )
    # Both sides write their retrospective: the client hears at once that its part is asked.
    from django.urls import reverse

    from confiance.engagements.stops import engagement_people

    notify_on_commit(
        workspace_id=closure.workspace_id,
        user_ids=[pk for pk in engagement_people(engagement) if pk != membership.user_id],
        kind="closure.started",
        params={
            "engagement": engagement.title,
            "who": membership.user.get_full_name(),
            "outcome": outcome,
            "objectives": engagement.objectives.count(),
        },
        link=reverse("closure", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}),
        at=at,
    )
    return closure


@transaction.atomic
def objective_assess(
    *,
    membership: Membership,
    closure: Closure,
    objective: Objective,
    attainment: str,
    evidence: str,
    at: datetime | None = None,
) -> ObjectiveAssessment:
    """Record how far an objective was attained, with the evidence (the provider's analysis)."""
    if not access.can_run_closure(membership, closure.engagement):
        raise PermissionDenied
    if objective.engagement_id != closure.engagement_id:
        raise ValidationError(_("This objective belongs to another engagement."))
    errors = {}
    if attainment not in Attainment.values:
        errors["attainment"] = _("Say whether the objective was attained.")
    if not evidence.strip():
        errors["evidence"] = _("Give the evidence for this attainment.")
    if errors:
        raise ValidationError(errors)
    before = selectors.closure_view(fetched_by=membership, closure=closure)
    assessment, _created = ObjectiveAssessment.objects.update_or_create(
        closure=closure,
        objective=objective,
        defaults={
            "workspace_id": closure.workspace_id,
            "attainment": attainment,
            "evidence": evidence.strip(),
            "assessed_by": membership.user,
            "assessed_at": at or timezone.now(),
        },
    )
    audit_record(
        verb="closure.assess",
        actor=membership.user,
        workspace=membership.workspace,
        target=assessment,
        data={"objective": objective.pk, "attainment": attainment},
    )
    _tell_analysis_change(membership, closure, before, at=at)
    return assessment


@transaction.atomic
def retrospective_write(
    *,
    membership: Membership,
    closure: Closure,
    side: str,
    went_well: str,
    to_improve: str,
    lessons: str,
    at: datetime | None = None,
) -> RetrospectiveContribution:
    """Write (or rewrite) one's own contribution to one's own side's retrospective.

    The provider's people write the provider's side, the client's contacts the client's side;
    nobody writes for the other side, and each person's contribution is their own record.
    """
    if access.closure_side(membership, closure.engagement) != side:
        raise PermissionDenied
    texts = {
        "went_well": went_well.strip(),
        "to_improve": to_improve.strip(),
        "lessons": lessons.strip(),
    }
    if not any(texts.values()):
        raise ValidationError(_("Write at least one part of the retrospective."))
    before = selectors.closure_view(fetched_by=membership, closure=closure)
    contribution, _created = RetrospectiveContribution.objects.update_or_create(
        closure=closure,
        author=membership.user,
        defaults={
            **texts,
            "workspace_id": closure.workspace_id,
            "side": side,
            "updated_at": at or timezone.now(),
        },
    )
    audit_record(
        verb="closure.retrospective",
        actor=membership.user,
        workspace=membership.workspace,
        target=contribution,
        data={"side": side},
    )
    _tell_analysis_change(membership, closure, before, at=at)
    if _created:
        # The other side reads it before the approval: it hears of it at once.
        from django.urls import reverse

        engagement = closure.engagement
        if side == Side.PROVIDER:
            readers = set(_client_contact_ids(engagement))
        else:
            readers = {closure.started_by_id}
            if engagement.lead_id is not None:
                readers.add(engagement.lead_id)
        notify_on_commit(
            workspace_id=closure.workspace_id,
            user_ids=readers - {membership.user_id},
            kind="closure.retrospective",
            params={
                "engagement": engagement.title,
                "who": membership.user.get_full_name(),
                "side": side,
            },
            link=reverse("closure", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}),
            at=at,
        )
    return contribution


@transaction.atomic
def closure_approve(
    *,
    membership: Membership,
    closure: Closure,
    seen_hash: str,
    open_items_acknowledged: bool = False,
    at: datetime | None = None,
) -> ClosureApproval:
    """The client's approval for payment (bon à payer) of the analysis it was shown.

    `seen_hash` is the hash of the analysis on the client's screen: if the analysis changed
    meanwhile, the approval is refused, so nobody approves what they did not read. Problems
    and commitments still open must be acknowledged (`open_items_acknowledged`); the approval
    records which. It goes to the engagement's ledger and closes the engagement (one stopped
    early stays so). `at`: when it was given; only the demo data sets it (its history spans
    months).
    """
    engagement = closure.engagement
    if not access.can_approve_closure(membership, engagement):
        raise PermissionDenied
    closure = Closure.objects.select_for_update().get(pk=closure.pk)
    closure.engagement = engagement
    view = selectors.closure_view(fetched_by=membership, closure=closure)
    if not view.all_assessed:
        raise ValidationError(_("Every objective needs its attainment before the approval."))
    current = view.approval.current_hash
    if seen_hash != current:
        raise ValidationError(
            _("The analysis changed while you were reading it: read it again, then approve.")
        )
    if view.approval.valid:
        raise ValidationError(_("This analysis is already approved."))
    still_open = selectors.open_items(engagement=engagement)
    if still_open.count and not open_items_acknowledged:
        raise ValidationError(
            {
                "acknowledge_open": _(
                    "%(n)d problems or commitments are still open: acknowledge them to approve."
                )
                % {"n": still_open.count}
            }
        )
    entry = ledger_append(
        engagement=engagement,
        kind="closure.approved",
        payload={
            "closure": closure.pk,
            "hash": current,
            "outcome": closure.outcome,
            "open_items_acknowledged": still_open.as_data(),
        },
        actor=membership.user,
    )
    approval = ClosureApproval.objects.create(
        workspace_id=closure.workspace_id,
        closure=closure,
        approved_by=membership.user,
        approved_at=at or timezone.now(),
        analysis_hash=current,
        analysis=view.data,
        ledger_index=entry.index,
    )
    audit_record(
        verb="closure.approve",
        actor=membership.user,
        workspace=membership.workspace,
        target=approval,
        data={"hash": current, "ledger_index": entry.index},
    )
    lessons_file(closure=closure, contributions=view.contributions)
    enqueue_on_commit(notify_closure_approved, approval.pk, in_history=at is not None)
    if engagement.status not in (EngagementStatus.STOPPED_EARLY, EngagementStatus.CLOSED):
        # engagement_set_status is the provider's (it checks can_manage_engagements); the
        # client's approval is what closes the engagement, so the status is set here, audited
        # the same way with the approval named as its cause.
        previous = engagement.status
        engagement.status = EngagementStatus.CLOSED
        engagement.updated_at = timezone.now()
        engagement.save(update_fields=["status", "updated_at"])
        audit_record(
            verb="engagement.status",
            actor=membership.user,
            workspace=membership.workspace,
            target=engagement,
            data={"from": previous, "to": EngagementStatus.CLOSED, "by": "closure.approve"},
        )
    return approval


def _lesson_lines(text: str) -> list[str]:
    return [line.strip(" -*\t") for line in text.splitlines() if line.strip(" -*\t")]


def lessons_file(*, closure: Closure, contributions: list[RetrospectiveContribution]) -> list[Any]:
    """File the retrospective's lessons (one per line) in the workspace's lesson library.

    Called at the approval, inside its transaction. The library is the provider's: a provider
    person's lessons are filed as theirs; a client contact cannot write there, so the client's
    lessons are filed by whoever started the closure, naming the client's author in the text.
    Lines already filed at an earlier approval are not filed twice.
    """
    if not apps.is_installed("confiance.lessons"):
        return []
    from confiance.lessons.services import lesson_create

    engagement = closure.engagement
    memberships = {
        m.user_id: m
        for m in Membership.objects.select_related("workspace", "user").filter(
            workspace_id=closure.workspace_id, role__in=[Role.OWNER, Role.MEMBER]
        )
    }
    filer = memberships.get(closure.started_by_id)
    created = []
    for contribution in contributions:
        lines = _lesson_lines(contribution.lessons)
        done = set(_lesson_lines(contribution.lessons_filed))
        new = [line for line in lines if line not in done]
        if not new:
            continue
        author = memberships.get(contribution.author_id)
        by = author if contribution.side == Side.PROVIDER and author is not None else filer
        if by is None:
            continue
        side = Side(contribution.side).label
        for line in new:
            created.append(
                lesson_create(
                    membership=by,
                    title=line[:200],
                    text=_(
                        "%(lesson)s\n\nFrom the retrospective of %(engagement)s, %(side)s side, "
                        "by %(author)s."
                    )
                    % {
                        "lesson": line,
                        "engagement": engagement.title,
                        "side": str(side).lower(),
                        "author": contribution.author.get_full_name(),
                    },
                    tags=["retrospective"],
                    engagement=engagement,
                )
            )
        contribution.lessons_filed = contribution.lessons
        contribution.save(update_fields=["lessons_filed"])
    return created
