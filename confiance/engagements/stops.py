"""Either side may stop: the client asks to stop early with its reason, the provider answers.

Stopping early is an honest outcome (DESIGN.md), so both the request and its answer are
ledgered and told to both sides. The provider stops an engagement itself through
`engagement_set_status`; "closed" is reached only through the closure (the client's approval).
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Role, User
from confiance.core.notices import notify_on_commit
from confiance.engagements.models import Engagement, EngagementStatus, StopRequest
from confiance.ledger.services import ledger_append

MAX_REASON_LENGTH = 4000
STOPPABLE = (EngagementStatus.ACTIVE, EngagementStatus.PAUSED)


def side_people(engagement: Engagement, side: str) -> list[int]:
    """Who answers for a side ("client" or "provider"): the client's contacts (none while the
    engagement is a draft, which they may not see: `access.scope_engagements`), or the lead
    (else the workspace's owners)."""
    if side == "client":
        if engagement.status == EngagementStatus.DRAFT:
            return []
        return list(
            Membership.objects.filter(
                workspace_id=engagement.workspace_id,
                role=Role.CLIENT,
                client_id=engagement.client_id,
            ).values_list("user_id", flat=True)
        )
    if engagement.lead_id is not None:
        return [engagement.lead_id]
    return list(
        Membership.objects.filter(
            workspace_id=engagement.workspace_id, role=Role.OWNER
        ).values_list("user_id", flat=True)
    )


def engagement_people(engagement: Engagement) -> list[int]:
    """Both sides of an engagement, as `side_people` names them."""
    return sorted(set(side_people(engagement, "client")) | set(side_people(engagement, "provider")))


def tell_both_sides(
    engagement: Engagement, actor: User, kind: str, at: datetime | None = None, **params: str
) -> None:
    """Tell both sides of an engagement (the one who acted aside); `at` dates a past act."""
    notify_on_commit(
        workspace_id=engagement.workspace_id,
        user_ids=[pk for pk in engagement_people(engagement) if pk != actor.pk],
        kind=kind,
        params={"engagement": engagement.title, "who": actor.get_full_name(), **params},
        link=reverse(
            "engagement-detail", kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk}
        ),
        at=at,
    )


def _check_reason(reason: str, field: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({field: message})
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationError(
            {field: _("Keep it under %(n)d characters.") % {"n": MAX_REASON_LENGTH}}
        )
    return reason


@transaction.atomic
def stop_request_create(
    *, membership: Membership, engagement: Engagement, reason: str
) -> StopRequest:
    """The client asks to stop the engagement early, saying why; the provider is told."""
    if not access.is_client_of(membership, engagement):
        raise PermissionDenied
    engagement = (
        Engagement.objects.select_for_update().select_related("workspace").get(pk=engagement.pk)
    )
    reason = _check_reason(reason, "reason", _("Say why you ask to stop early."))
    if engagement.status not in STOPPABLE:
        raise ValidationError(_("Only an active or paused engagement can be stopped."))
    if engagement.stop_requests.filter(state=StopRequest.State.PENDING).exists():
        raise ValidationError(_("A request to stop already awaits the provider's answer."))
    request = StopRequest.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        asked_by=membership.user,
        reason=reason,
    )
    audit_record(
        verb="engagement.stop_request",
        actor=membership.user,
        workspace=membership.workspace,
        target=request,
        data={"reason": reason},
    )
    ledger_append(
        engagement=engagement,
        kind="engagement.stop_requested",
        payload={"request": request.pk, "reason": reason},
        actor=membership.user,
    )
    tell_both_sides(engagement, membership.user, "engagement.stop_requested", reason=reason)
    return request


@transaction.atomic
def stop_request_answer(
    *, membership: Membership, stop_request: StopRequest, accept: bool, answer: str = ""
) -> StopRequest:
    """The provider accepts (the engagement stops early, with the client's reason) or declines
    (with its own reason); either way it is ledgered and both sides are told."""
    from confiance.engagements.services import engagement_set_status

    stop_request = (
        StopRequest.objects.select_for_update()
        .select_related("engagement__workspace", "asked_by")
        .get(pk=stop_request.pk)
    )
    engagement = stop_request.engagement
    if not access.can_manage_engagements(membership) or (
        engagement.workspace_id != membership.workspace_id
    ):
        raise PermissionDenied
    if stop_request.state != StopRequest.State.PENDING:
        raise ValidationError(_("This request was already answered."))
    if accept and engagement.status not in STOPPABLE:
        raise ValidationError(_("This engagement has already ended: it cannot be stopped now."))
    if accept and len(answer.strip()) > MAX_REASON_LENGTH:
        raise ValidationError(
            {"answer": _("Keep it under %(n)d characters.") % {"n": MAX_REASON_LENGTH}}
        )
    if accept:
        answer = answer.strip()
    else:
        answer = _check_reason(answer, "answer", _("Say why you decline."))
    stop_request.state = StopRequest.State.ACCEPTED if accept else StopRequest.State.DECLINED
    stop_request.answered_by = membership.user
    stop_request.answered_at = timezone.now()
    stop_request.answer = answer
    stop_request.save(update_fields=["state", "answered_by", "answered_at", "answer"])
    audit_record(
        verb="engagement.stop_answer",
        actor=membership.user,
        workspace=membership.workspace,
        target=stop_request,
        data={"state": stop_request.state, "answer": answer},
    )
    ledger_append(
        engagement=engagement,
        kind="engagement.stop_answered",
        payload={"request": stop_request.pk, "state": stop_request.state, "answer": answer},
        actor=membership.user,
    )
    if accept:
        engagement_set_status(
            membership=membership,
            engagement=engagement,
            status=EngagementStatus.STOPPED_EARLY,
            reason=_("Asked by %(who)s: %(reason)s")
            % {"who": stop_request.asked_by.get_full_name(), "reason": stop_request.reason},
            tell=False,
        )
    tell_both_sides(
        engagement,
        membership.user,
        "engagement.stop_answered",
        state=stop_request.state,
        answer=answer,
        reason=stop_request.reason,
    )
    return stop_request
