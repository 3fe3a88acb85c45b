"""Writes of opportunities: opening, people (invite, join, leave, remove), profiles, phases."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Client, Invitation, Membership, Role, User
from confiance.core.services import client_create, invitation_create
from confiance.emergence.models import (
    ExpertProfile,
    Nomination,
    NominationStatus,
    Opportunity,
    Participant,
    Phase,
    PhaseMove,
    Side,
    Visibility,
)
from confiance.emergence.services.common import (
    excerpt,
    notify,
    participant_of,
    require_open,
    require_visible,
    side_of,
)
from confiance.engagements.models import ContactOrigin

# Opening ---------------------------------------------------------------------------------------


@transaction.atomic
def opportunity_open(
    *,
    membership: Membership,
    title: str,
    client: Client | None = None,
    new_client_name: str = "",
    client_problem: str = "",
    client_solution_idea: str = "",
    provider_interpretation: str = "",
    context: str = "",
    contact_origin: str = ContactOrigin.EMERGENCE,
    visibility: str = Visibility.WORKSPACE,
) -> Opportunity:
    """Open a client's need to invited people; the opener takes part from the start."""
    if not access.can_open_opportunity(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("An opportunity needs a title.")
    if client is None and not new_client_name.strip():
        errors["client"] = _("Choose a client, or name a new one.")
    if client is not None and new_client_name.strip():
        errors["new_client_name"] = _("Choose an existing client or name a new one, not both.")
    if client is not None and client.workspace_id != membership.workspace_id:
        errors["client"] = _("Choose a client of this workspace.")
    if not client_problem.strip():
        errors["client_problem"] = _("Describe the client's problem.")
    if contact_origin not in ContactOrigin.values:
        errors["contact_origin"] = _("Choose how the contact started.")
    if visibility not in Visibility.values:
        errors["visibility"] = _("Choose who may see it.")
    if errors:
        raise ValidationError(errors)
    if client is None:
        try:
            client = client_create(membership=membership, name=new_client_name)
        except ValidationError as error:
            raise ValidationError({"new_client_name": error.messages}) from None
    now = timezone.now()
    opportunity = Opportunity.objects.create(
        workspace_id=membership.workspace_id,
        client=client,
        title=title.strip(),
        client_problem=client_problem.strip(),
        client_solution_idea=client_solution_idea.strip(),
        provider_interpretation=provider_interpretation.strip(),
        context=context.strip(),
        contact_origin=contact_origin,
        visibility=visibility,
        opened_by=membership.user,
        created_at=now,
        updated_at=now,
    )
    PhaseMove.objects.create(
        workspace_id=membership.workspace_id,
        opportunity=opportunity,
        from_phase="",
        to_phase=Phase.DIVERGING,
        by=membership.user,
        reason="",
        at=now,
    )
    Participant.objects.create(
        workspace_id=membership.workspace_id,
        opportunity=opportunity,
        user=membership.user,
        email=membership.user.email,
        side=Side.PROVIDER,
        invited_by=membership.user,
        invited_at=now,
        joined_at=now,
    )
    audit_record(
        verb="opportunity.open",
        actor=membership.user,
        workspace=membership.workspace,
        target=opportunity,
        data={"title": opportunity.title, "client": client.name},
    )
    return opportunity


@transaction.atomic
def opportunity_update(
    *, membership: Membership, opportunity: Opportunity, **fields: str
) -> Opportunity:
    """Edit the need's description (its three parts, context, title): the opener or the owner."""
    editable = {
        "title",
        "client_problem",
        "client_solution_idea",
        "provider_interpretation",
        "context",
        "visibility",
    }
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    require_open(opportunity)
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    errors: dict[str, str] = {}
    if "title" in fields and not fields["title"].strip():
        errors["title"] = _("An opportunity needs a title.")
    if "client_problem" in fields and not fields["client_problem"].strip():
        errors["client_problem"] = _("Describe the client's problem.")
    if "visibility" in fields and fields["visibility"] not in Visibility.values:
        errors["visibility"] = _("Choose who may see it.")
    if errors:
        raise ValidationError(errors)
    for name, value in fields.items():
        setattr(opportunity, name, value.strip())
    opportunity.updated_at = timezone.now()
    opportunity.save(update_fields=[*fields, "updated_at"])
    audit_record(
        verb="opportunity.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=opportunity,
        data={"fields": sorted(fields)},
    )
    return opportunity


# Participants ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteResult:
    participant: Participant
    # The signed link, when the person had no account in the workspace (shown once to the inviter).
    link: str | None


def participant_bind_invitation(invitation: Invitation, membership: Membership) -> None:
    """Hooked into core.invitation_accept: the new account takes its place in the opportunity."""
    Participant.objects.filter(invitation=invitation, user__isnull=True).update(
        user=membership.user
    )


@transaction.atomic
def opportunity_invite(
    *,
    membership: Membership,
    opportunity: Opportunity,
    email: str,
    introduction: str = "",
    language: str = "",
) -> InviteResult:
    """Invite a person by e-mail: an expert of one's network, a colleague, or a client contact.

    Someone already in the workspace gets a notice and an e-mail; someone new gets the
    workspace's signed, single-use, expiring invitation (as an expert, or as a contact of the
    opportunity's client when the inviter says so by their address being unknown: see below).
    """
    if not access.can_invite_to_opportunity(membership):
        raise PermissionDenied
    require_visible(membership, opportunity)
    require_open(opportunity)
    email = email.strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": _("Enter a valid e-mail address.")})
    existing = Participant.objects.filter(opportunity=opportunity, email=email).first()
    if existing is not None and existing.is_active:
        raise ValidationError({"email": _("This person is already invited.")})
    theirs = (
        Membership.objects.select_related("user")
        .filter(workspace_id=opportunity.workspace_id, user__email=email)
        .first()
    )
    now = timezone.now()
    issued = None
    if theirs is not None:
        if theirs.role == Role.CLIENT and theirs.client_id != opportunity.client_id:
            raise ValidationError(
                {"email": _("This person is a contact of another client: they cannot take part.")}
            )
        side = side_of(theirs)
        user: User | None = theirs.user
    else:
        issued = invitation_create(
            membership=membership,
            email=email,
            role=Role.EXPERT,
            send_email=False,
            language=language,
        )
        side = Side.EXPERT
        user = None
    fields = {
        "workspace_id": opportunity.workspace_id,
        "user": user,
        "invitation": issued.invitation if issued else None,
        "side": side,
        "introduction": introduction.strip(),
        "invited_by": membership.user,
        "invited_at": now,
        "joined_at": None,
        "declined_at": None,
        "left_at": None,
        "removed_at": None,
        "removed_by": None,
    }
    if existing is not None:  # invited again after leaving, declining or removal
        for name, value in fields.items():
            setattr(existing, name, value)
        existing.save(update_fields=[n.removesuffix("_id") for n in fields])
        participant = existing
    else:
        participant = Participant.objects.create(opportunity=opportunity, email=email, **fields)
    audit_record(
        verb="opportunity.invite",
        actor=membership.user,
        workspace=membership.workspace,
        target=participant,
        data={"email": email, "side": side, "opportunity": opportunity.pk},
    )
    link = issued.link if issued else None
    if issued is not None:
        _email_newcomer(participant, issued.link, issued.invitation.language)
    else:
        notify(
            opportunity,
            [user],
            "emergence.invited",
            {
                "who": membership.user.get_full_name(),
                "opportunity": opportunity.title,
                "problem": excerpt(opportunity.client_problem),
                "introduction": participant.introduction,
            },
        )
    return InviteResult(participant=participant, link=link)


def _email_newcomer(participant: Participant, link: str, language: str) -> None:
    """Someone without an account: the invitation e-mail, in the language chosen for them."""
    from confiance.emergence.tasks import send_opportunity_invitation

    transaction.on_commit(
        lambda: send_opportunity_invitation.enqueue(participant.pk, link, language)
    )


@transaction.atomic
def opportunity_invite_client(
    *, membership: Membership, opportunity: Opportunity, email: str, language: str = ""
) -> InviteResult:
    """Invite a contact of the opportunity's client; a new address gets a client invitation."""
    if not access.can_invite_to_opportunity(membership):
        raise PermissionDenied
    email = email.strip().lower()
    known = Membership.objects.filter(
        workspace_id=opportunity.workspace_id, user__email=email
    ).first()
    if known is None and email and "@" in email:
        require_visible(membership, opportunity)
        require_open(opportunity)
        if Participant.objects.filter(
            opportunity=opportunity, email=email, removed_at__isnull=True, left_at__isnull=True
        ).exists():
            raise ValidationError({"email": _("This person is already invited.")})
        issued = invitation_create(
            membership=membership,
            email=email,
            role=Role.CLIENT,
            client=opportunity.client,
            send_email=False,
            language=language,
        )
        Participant.objects.filter(opportunity=opportunity, email=email).delete()
        participant = Participant.objects.create(
            workspace_id=opportunity.workspace_id,
            opportunity=opportunity,
            email=email,
            invitation=issued.invitation,
            side=Side.CLIENT,
            invited_by=membership.user,
        )
        audit_record(
            verb="opportunity.invite",
            actor=membership.user,
            workspace=membership.workspace,
            target=participant,
            data={"email": email, "side": Side.CLIENT, "opportunity": opportunity.pk},
        )
        _email_newcomer(participant, issued.link, issued.invitation.language)
        return InviteResult(participant=participant, link=issued.link)
    if known is not None and known.role != Role.CLIENT:
        raise ValidationError({"email": _("This person is not a contact of a client.")})
    return opportunity_invite(
        membership=membership, opportunity=opportunity, email=email, language=language
    )


def _own_participation(membership: Membership, opportunity: Opportunity) -> Participant:
    participant = participant_of(opportunity, membership.user)
    if participant is None:
        raise PermissionDenied
    return participant


@transaction.atomic
def participant_join(*, membership: Membership, opportunity: Opportunity) -> Participant:
    """Accept to take part: free, and revocable at any time by leaving."""
    require_open(opportunity)
    participant = _own_participation(membership, opportunity)
    if participant.joined_at is None:
        participant.joined_at = timezone.now()
        participant.save(update_fields=["joined_at"])
        audit_record(
            verb="opportunity.join",
            actor=membership.user,
            workspace=membership.workspace,
            target=participant,
        )
    return participant


@transaction.atomic
def participant_decline(*, membership: Membership, opportunity: Opportunity) -> Participant:
    """Decline an invitation: the opportunity disappears from one's view."""
    participant = _own_participation(membership, opportunity)
    participant.declined_at = timezone.now()
    participant.save(update_fields=["declined_at"])
    audit_record(
        verb="opportunity.decline_invitation",
        actor=membership.user,
        workspace=membership.workspace,
        target=participant,
    )
    return participant


@transaction.atomic
def participant_leave(*, membership: Membership, opportunity: Opportunity) -> Participant:
    """Leave: one's posts stay, access ends; the others see who left and when."""
    participant = _own_participation(membership, opportunity)
    if opportunity.opened_by_id == membership.user_id:
        raise ValidationError(_("The opener cannot leave their own opportunity."))
    participant.left_at = timezone.now()
    participant.save(update_fields=["left_at"])
    Nomination.objects.filter(
        slot__opportunity=opportunity, person=membership.user, status=NominationStatus.OPEN
    ).update(status=NominationStatus.WITHDRAWN)
    audit_record(
        verb="opportunity.leave",
        actor=membership.user,
        workspace=membership.workspace,
        target=participant,
    )
    return participant


@transaction.atomic
def participant_remove(
    *, membership: Membership, opportunity: Opportunity, participant_id: int, reason: str = ""
) -> Participant:
    """Remove someone: their access ends with this transaction (every request asks again)."""
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    participant = Participant.objects.filter(pk=participant_id, opportunity=opportunity).first()
    if participant is None:
        raise Participant.DoesNotExist
    if participant.user_id == opportunity.opened_by_id:
        raise ValidationError(_("The opener cannot be removed."))
    if participant.removed_at is None:
        participant.removed_at = timezone.now()
        participant.removed_by = membership.user
        participant.save(update_fields=["removed_at", "removed_by"])
        if participant.invitation_id and participant.user_id is None:
            Invitation.objects.filter(
                pk=participant.invitation_id, accepted_at__isnull=True
            ).update(revoked_at=timezone.now())
        Nomination.objects.filter(
            slot__opportunity=opportunity,
            person_id=participant.user_id,
            status=NominationStatus.OPEN,
        ).update(status=NominationStatus.WITHDRAWN)
        audit_record(
            verb="opportunity.remove",
            actor=membership.user,
            workspace=membership.workspace,
            target=participant,
            data={"email": participant.email, "reason": reason.strip()},
        )
    return participant


@transaction.atomic
def participant_set_digest(
    *, membership: Membership, opportunity: Opportunity, wants_digest: bool
) -> Participant:
    """Follow (or not) every new message: notices of the group "emergence_messages"."""
    participant = _own_participation(membership, opportunity)
    participant.wants_digest = wants_digest
    participant.save(update_fields=["wants_digest"])
    return participant


@transaction.atomic
def profile_update(*, membership: Membership, headline: str, skills: str) -> ExpertProfile:
    """A person describes themself: headline and skills (one per line)."""
    if len(headline) > 200:
        raise ValidationError({"headline": _("Keep the headline under 200 characters.")})
    skills = "\n".join(s.strip() for s in skills.splitlines() if s.strip())
    profile, _created = ExpertProfile.objects.update_or_create(
        workspace_id=membership.workspace_id,
        user=membership.user,
        defaults={"headline": headline.strip(), "skills": skills, "updated_at": timezone.now()},
    )
    audit_record(
        verb="expert_profile.update",
        actor=membership.user,
        workspace=membership.workspace,
        target=profile,
    )
    return profile


# Phases ----------------------------------------------------------------------------------------

# The moves a person steers by hand; conversion and declining have their own services.
MOVES: dict[str, set[str]] = {
    Phase.DIVERGING: {Phase.CONVERGING, Phase.ABANDONED},
    Phase.CONVERGING: {Phase.DIVERGING, Phase.TEAM_FORMED, Phase.ABANDONED},
    Phase.TEAM_FORMED: {Phase.CONVERGING, Phase.ABANDONED},
}
# Going back, or giving up, needs its reason.
NEEDS_REASON = {
    (Phase.CONVERGING, Phase.DIVERGING),
    (Phase.TEAM_FORMED, Phase.CONVERGING),
}


def _move(
    *,
    membership: Membership,
    opportunity: Opportunity,
    to_phase: str,
    reason: str,
    tell: bool = True,
) -> PhaseMove:
    """Record a move of phase; `tell=False` when the caller sends its own, more telling notice
    (a decline with its reason, a conversion), so that nobody is told twice."""
    now = timezone.now()
    move = PhaseMove.objects.create(
        workspace_id=opportunity.workspace_id,
        opportunity=opportunity,
        from_phase=opportunity.phase,
        to_phase=to_phase,
        by=membership.user,
        reason=reason.strip(),
        at=now,
    )
    opportunity.phase = to_phase
    opportunity.updated_at = now
    opportunity.save(update_fields=["phase", "updated_at"])
    audit_record(
        verb="opportunity.phase",
        actor=membership.user,
        workspace=membership.workspace,
        target=opportunity,
        data={"from": move.from_phase, "to": to_phase, "reason": move.reason},
    )
    if not tell:
        return move
    others = [
        p.user
        for p in opportunity.participants.select_related("user").filter(
            user__isnull=False,
            declined_at__isnull=True,
            left_at__isnull=True,
            removed_at__isnull=True,
        )
        if p.user_id != membership.user_id
    ]
    notify(
        opportunity,
        others,
        "emergence.phase",
        {
            "opportunity": opportunity.title,
            "phase": str(Phase(to_phase).label),
            "phase_code": to_phase,
            "who": membership.user.get_full_name(),
            "reason": excerpt(move.reason),
        },
    )
    return move


@transaction.atomic
def phase_move(
    *, membership: Membership, opportunity: Opportunity, to_phase: str, reason: str = ""
) -> PhaseMove:
    """Move the opportunity to another phase, recording who, when and why."""
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    # Lock the row and read its phase afresh: two people moving at once cannot both succeed.
    opportunity.phase = (
        Opportunity.objects.select_for_update()
        .values_list("phase", flat=True)
        .get(pk=opportunity.pk)
    )
    allowed = MOVES.get(opportunity.phase, set())
    if to_phase not in allowed:
        raise ValidationError({"to_phase": _("This move is not possible from the current phase.")})
    if (
        (opportunity.phase, to_phase) in NEEDS_REASON or to_phase == Phase.ABANDONED
    ) and not reason.strip():
        raise ValidationError({"reason": _("Say why.")})
    if (
        to_phase == Phase.TEAM_FORMED
        and not Nomination.objects.filter(
            slot__opportunity=opportunity, status=NominationStatus.ACCEPTED
        ).exists()
    ):
        raise ValidationError(
            {"to_phase": _("No one holds a role yet: a team needs at least one accepted role.")}
        )
    return _move(membership=membership, opportunity=opportunity, to_phase=to_phase, reason=reason)
