"""Writes of the pulse: the cadence, opening rounds (with the people asked), answering.

Rounds are opened by the system (the `open-pulses` task), never by a person; each opening is
audited and its invitations are sent on commit. Answers are audited without their scores or
comment, so the audit log never reveals an individual answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Membership, Role, User, Workspace
from confiance.core.queries import Prepared
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement, EngagementStatus
from confiance.pulse.models import (
    VIRTUE_FIELDS,
    PulseAnswer,
    PulseInvitee,
    PulseSettings,
    PulseSurvey,
    Side,
)

# A round stays open this long (or the cadence, when shorter), so rounds never overlap.
ROUND_OPEN_DAYS = 7
MAX_COMMENT = 500
CLOSING_STATUSES = (EngagementStatus.CLOSED, EngagementStatus.STOPPED_EARLY)


# Both read by the daily pulse_open_due: compiled once per process (core.queries.Prepared).
_CADENCE = Prepared(
    lambda workspace: PulseSettings.objects.filter(workspace_id=workspace).values_list(
        "cadence_days"
    ),
    workspace=int,
)
_LAST_ROUNDS = Prepared(
    lambda: (
        Engagement.objects.filter(status__in=[EngagementStatus.ACTIVE, *CLOSING_STATUSES])
        .annotate(last_round=Max("pulse_surveys__opened_at"))
        .values_list("pk", "workspace_id", "status", "last_round")
    )
)


def cadence_days(workspace: Workspace) -> int:
    """The workspace's cadence in days (the default when the owner never set one)."""
    found = _CADENCE.rows(workspace=workspace.pk)  # one row at most (one per workspace)
    return int(found[0][0]) if found else PulseSettings().cadence_days


@transaction.atomic
def pulse_settings_set(*, membership: Membership, cadence_days: int) -> PulseSettings:
    """Set how often a pulse round opens on each active engagement (owner only)."""
    if not access.can_manage_pulse_settings(membership):
        raise PermissionDenied
    if not 1 <= cadence_days <= 365:
        raise ValidationError({"cadence_days": _("Choose between 1 and 365 days.")})
    row, _created = PulseSettings.objects.update_or_create(
        workspace_id=membership.workspace_id, defaults={"cadence_days": cadence_days}
    )
    audit_record(
        verb="pulse.settings",
        actor=membership.user,
        workspace=membership.workspace,
        target=row,
        data={"cadence_days": cadence_days},
    )
    return row


def people_to_ask(engagement: Engagement) -> list[tuple[User, str]]:
    """Who answers a round: the provider's people on the engagement (team, lead, provider
    interlocutors) and the contacts of the engagement's client. Active accounts only."""
    from confiance.consumption.models import TeamMember
    from confiance.engagements.models import Interlocutor

    provider_ids = set(
        TeamMember.objects.filter(engagement=engagement).values_list("user_id", flat=True)
    )
    provider_ids |= set(
        Interlocutor.objects.filter(
            engagement=engagement, side=Interlocutor.Side.PROVIDER
        ).values_list("user_id", flat=True)
    )
    if engagement.lead_id is not None:
        provider_ids.add(engagement.lead_id)
    memberships = Membership.objects.filter(
        workspace_id=engagement.workspace_id, user__is_active=True
    ).select_related("user")
    # Still a provider person of the workspace: someone who left is not asked.
    provider = [
        m.user for m in memberships.filter(user_id__in=provider_ids, role__in=INTERNAL_ROLES)
    ]
    client = [m.user for m in memberships.filter(role=Role.CLIENT, client_id=engagement.client_id)]
    people = [(u, Side.PROVIDER.value) for u in sorted(provider, key=lambda u: u.pk)]
    people += [(u, Side.CLIENT.value) for u in sorted(client, key=lambda u: u.pk)]
    return people


def _round_due(engagement: Engagement, now: datetime) -> str | None:
    """The reason a round should open now on this engagement, or None."""
    last = PulseSurvey.objects.filter(engagement=engagement).order_by("-opened_at").first()
    if engagement.status == EngagementStatus.ACTIVE:
        cadence = timedelta(days=cadence_days(engagement.workspace))
        if last is None or last.opened_at <= now - cadence:
            return PulseSurvey.Reason.CADENCE
        return None
    if engagement.status in CLOSING_STATUSES:
        # A closing round only where the pulse was in use, once.
        has_closure = PulseSurvey.objects.filter(
            engagement=engagement, reason=PulseSurvey.Reason.CLOSURE
        ).exists()
        if last is not None and not has_closure:
            return PulseSurvey.Reason.CLOSURE
    return None


@transaction.atomic
def pulse_round_open(
    *, engagement: Engagement, now: datetime | None = None, notify: bool = True
) -> PulseSurvey | None:
    """Open the round that is due on this engagement (by the cadence, or at closure), if any.

    The engagement row is locked while deciding, so two openers never open the same round twice.
    Returns the new round, or None when none was due. `notify=False` is for back-filled history
    (the demo), whose rounds are long closed.
    """
    now = now or timezone.now()
    engagement = (
        Engagement.objects.select_for_update().select_related("workspace").get(pk=engagement.pk)
    )
    reason = _round_due(engagement, now)
    if reason is None:
        return None
    days = min(ROUND_OPEN_DAYS, cadence_days(engagement.workspace))
    survey = PulseSurvey.objects.create(
        workspace_id=engagement.workspace_id,
        engagement=engagement,
        opened_at=now,
        closes_at=now + timedelta(days=days),
        reason=reason,
    )
    PulseInvitee.objects.bulk_create(
        PulseInvitee(workspace_id=engagement.workspace_id, survey=survey, user=user, side=side)
        for user, side in people_to_ask(engagement)
    )
    audit_record(
        verb="pulse.open",
        actor=None,
        workspace=engagement.workspace,
        target=survey,
        data={"engagement": engagement.pk, "reason": reason},
    )
    from confiance.pulse.tasks import send_pulse_invitations

    if notify:
        enqueue_on_commit(send_pulse_invitations, survey.pk)
    return survey


def pulse_open_due(*, now: datetime | None = None) -> int:
    """Open every round that is due in every workspace; returns how many were opened.

    One query finds each engagement's last round: an active engagement whose last round is
    younger than its workspace's cadence is not due and is not locked and read again (a daily run
    over a portfolio costs a query per engagement that may be due, not five per engagement).
    pulse_round_open decides under the engagement's lock, as before.
    """
    now = now or timezone.now()
    cadences: dict[int, timedelta] = {}
    opened = 0
    for pk, workspace_id, status, last_round in _LAST_ROUNDS.rows():
        if status == EngagementStatus.ACTIVE and last_round is not None:
            if workspace_id not in cadences:
                cadences[workspace_id] = timedelta(days=cadence_days(Workspace(pk=workspace_id)))
            if last_round > now - cadences[workspace_id]:
                continue  # the last round is recent: not due (_round_due)
        if pulse_round_open(engagement=Engagement(pk=pk), now=now) is not None:
            opened += 1
    return opened


@dataclass
class AnswerInput:
    common_language: int
    common_vision: int
    discretion: int
    receptivity: int
    proximity: int
    comment: str = ""
    signed: bool = False


@transaction.atomic
def pulse_answer_submit(
    *,
    membership: Membership,
    survey: PulseSurvey,
    answer: AnswerInput,
    now: datetime | None = None,
) -> PulseAnswer:
    """Answer a round, or change one's answer while the round is open. One answer per person.

    Only the people asked when the round opened answer it, for the side they were asked for.
    Signing (making the answer attributable) is offered to a side of one person only.
    """
    now = now or timezone.now()
    survey = PulseSurvey.objects.select_for_update().select_related("engagement").get(pk=survey.pk)
    engagement = survey.engagement
    if not access.can_see_pulse(membership, engagement):
        raise PermissionDenied
    invitee = PulseInvitee.objects.filter(survey=survey, user_id=membership.user_id).first()
    if invitee is None:
        raise PermissionDenied
    if not survey.is_open(now):
        raise ValidationError(_("This pulse round is closed; answers can no longer change."))
    errors: dict[str, str] = {}
    for name in VIRTUE_FIELDS:
        value = getattr(answer, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
            errors[name] = _("Choose a score from 1 to 5.")
    comment = (answer.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("Keep the comment to %(n)s characters.") % {"n": MAX_COMMENT}
    if answer.signed and side_size(survey, invitee.side) != 1:
        errors["signed"] = _("Only the single person of a side may sign the answer.")
    if errors:
        raise ValidationError(errors)
    values = {name: getattr(answer, name) for name in VIRTUE_FIELDS}
    row, created = PulseAnswer.objects.update_or_create(
        survey=survey,
        respondent_id=membership.user_id,
        defaults={
            **values,
            "workspace_id": survey.workspace_id,
            "engagement_id": survey.engagement_id,
            "side": invitee.side,
            "answered_at": now,
            "comment": comment,
            "signed": bool(answer.signed),
        },
    )
    # No scores nor comment in the audit log: an individual answer stays its author's.
    audit_record(
        verb="pulse.answer" if created else "pulse.answer_change",
        actor=membership.user,
        workspace=membership.workspace,
        target=survey,
        data={"side": invitee.side},
    )
    return row


def side_size(survey: PulseSurvey, side: str) -> int:
    """How many people were asked for this side of the round."""
    return PulseInvitee.objects.filter(survey=survey, side=side).count()
