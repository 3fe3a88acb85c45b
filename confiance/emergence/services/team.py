"""Writes of the team that emerges: role slots, nominations, endorsements, quiet acceptance."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import Membership, User
from confiance.emergence.models import (
    CLOSED_PHASES,
    Endorsement,
    Nomination,
    NominationStatus,
    Opportunity,
    RoleSlot,
    Side,
)
from confiance.emergence.services.common import (
    QUIET_DAYS,
    require_open,
    require_speaker,
)

# The team that emerges -------------------------------------------------------------------------


@transaction.atomic
def slot_propose(
    *,
    membership: Membership,
    opportunity: Opportunity,
    title: str,
    days: int,
    description: str = "",
) -> RoleSlot:
    """Anyone taking part proposes a role the work needs ("data architect, 20 days")."""
    require_speaker(membership, opportunity)
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = _("Name the role.")
    if days is None or days < 1 or days > 2000:
        errors["days"] = _("Give a number of days between 1 and 2000.")
    if errors:
        raise ValidationError(errors)
    slot = RoleSlot.objects.create(
        workspace_id=opportunity.workspace_id,
        opportunity=opportunity,
        title=title.strip(),
        days=days,
        description=description.strip(),
        proposed_by=membership.user,
    )
    audit_record(
        verb="role_slot.propose",
        actor=membership.user,
        workspace=membership.workspace,
        target=slot,
        data={"title": slot.title, "days": days},
    )
    return slot


@transaction.atomic
def nomination_create(*, membership: Membership, slot: RoleSlot, statement: str = "") -> Nomination:
    """Put oneself forward for a role; nobody is nominated by someone else."""
    opportunity = slot.opportunity
    participant = require_speaker(membership, opportunity)
    if participant.side == Side.CLIENT:
        raise ValidationError(_("The client's contacts do not take roles in the provider's team."))
    if slot.nominations.filter(status=NominationStatus.ACCEPTED).exists():
        raise ValidationError(_("This role is already held."))
    nomination = Nomination.objects.filter(slot=slot, person=membership.user).first()
    if nomination is not None and nomination.status != NominationStatus.WITHDRAWN:
        raise ValidationError(_("You have already put yourself forward for this role."))
    if nomination is not None:
        nomination.status = NominationStatus.OPEN
        nomination.statement = statement.strip()
        nomination.created_at = timezone.now()
        nomination.save(update_fields=["status", "statement", "created_at"])
        nomination.endorsements.all().delete()
    else:
        nomination = Nomination.objects.create(
            workspace_id=opportunity.workspace_id,
            slot=slot,
            person=membership.user,
            statement=statement.strip(),
        )
    audit_record(
        verb="nomination.create",
        actor=membership.user,
        workspace=membership.workspace,
        target=nomination,
        data={"slot": slot.title},
    )
    return nomination


@transaction.atomic
def nomination_withdraw(*, membership: Membership, nomination: Nomination) -> Nomination:
    """Withdraw one's own nomination (even once accepted: nobody is held against their will)."""
    if nomination.person_id != membership.user_id:
        raise PermissionDenied
    require_open(nomination.slot.opportunity)
    nomination.status = NominationStatus.WITHDRAWN
    nomination.save(update_fields=["status"])
    audit_record(
        verb="nomination.withdraw",
        actor=membership.user,
        workspace=membership.workspace,
        target=nomination,
    )
    return nomination


@transaction.atomic
def endorsement_add(
    *, membership: Membership, nomination: Nomination, word: str = "", objection: bool = False
) -> Endorsement:
    """Endorse someone's nomination with a word, or object to it (an objection needs its word)."""
    opportunity = nomination.slot.opportunity
    participant = require_speaker(membership, opportunity)
    if nomination.person_id == membership.user_id:
        raise ValidationError(_("You cannot endorse yourself."))
    if nomination.status != NominationStatus.OPEN:
        raise ValidationError(_("This nomination is no longer open."))
    if objection and not word.strip():
        raise ValidationError({"word": _("Say why you object.")})
    if len(word) > 300:
        raise ValidationError({"word": _("Keep it under 300 characters.")})
    if Endorsement.objects.filter(nomination=nomination, by=membership.user).exists():
        raise ValidationError(_("You have already given your word on this nomination."))
    endorsement = Endorsement.objects.create(
        workspace_id=opportunity.workspace_id,
        nomination=nomination,
        by=membership.user,
        by_side=participant.side,
        objection=objection,
        word=word.strip(),
    )
    audit_record(
        verb="nomination.object" if objection else "nomination.endorse",
        actor=membership.user,
        workspace=membership.workspace,
        target=endorsement,
    )
    return endorsement


def _accept(nomination: Nomination, by: User | None, how: str, now: datetime) -> None:
    nomination.status = NominationStatus.ACCEPTED
    nomination.accepted_at = now
    nomination.accepted_by = by
    nomination.accepted_how = how
    nomination.save(update_fields=["status", "accepted_at", "accepted_by", "accepted_how"])
    # The slot is held: the other candidates' nominations close.
    Nomination.objects.filter(slot_id=nomination.slot_id, status=NominationStatus.OPEN).exclude(
        pk=nomination.pk
    ).update(status=NominationStatus.WITHDRAWN)


@transaction.atomic
def nomination_accept(*, membership: Membership, nomination: Nomination) -> Nomination:
    """The opener (or the owner) accepts a nomination directly."""
    opportunity = nomination.slot.opportunity
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    require_open(opportunity)
    if nomination.status != NominationStatus.OPEN:
        raise ValidationError(_("This nomination is no longer open."))
    if nomination.slot.nominations.filter(status=NominationStatus.ACCEPTED).exists():
        raise ValidationError(_("This role is already held."))
    _accept(nomination, membership.user, "opener", timezone.now())
    audit_record(
        verb="nomination.accept",
        actor=membership.user,
        workspace=membership.workspace,
        target=nomination,
        data={"how": "opener"},
    )
    return nomination


def settle_date(nomination: Nomination, endorsements: list[Endorsement]) -> datetime | None:
    """When a nomination is accepted without an arbiter, or None while it cannot be.

    It needs an endorsement by the client's side or by the opener, and no objection; it is then
    accepted QUIET_DAYS after the latest of those endorsements (so a late endorsement still
    leaves everyone time to object).
    """
    opener_id = nomination.slot.opportunity.opened_by_id
    if any(e.objection for e in endorsements):
        return None
    decisive = [e for e in endorsements if e.by_side == Side.CLIENT or e.by_id == opener_id]
    if not decisive:
        return None
    return max(e.created_at for e in decisive) + timedelta(days=QUIET_DAYS)


@transaction.atomic
def nominations_settle(*, now: datetime | None = None) -> list[Nomination]:
    """Accept every open nomination whose quiet period has passed (run by the worker daily)."""
    now = now or timezone.now()
    accepted: list[Nomination] = []
    candidates = (
        Nomination.objects.select_related("slot__opportunity", "person")
        .prefetch_related("endorsements")
        .filter(status=NominationStatus.OPEN)
        .exclude(slot__opportunity__phase__in=CLOSED_PHASES)
        .filter(Q(endorsements__by_side=Side.CLIENT) | Q(endorsements__objection=False))
        .distinct()
        .order_by("created_at", "id")
    )
    held: set[int] = set(
        Nomination.objects.filter(status=NominationStatus.ACCEPTED).values_list(
            "slot_id", flat=True
        )
    )
    for nomination in candidates:
        if nomination.slot_id in held:
            continue
        due = settle_date(nomination, list(nomination.endorsements.all()))
        if due is None or due > now:
            continue
        _accept(nomination, None, "quiet", now)
        held.add(nomination.slot_id)
        audit_record(
            verb="nomination.accept",
            actor=None,
            workspace=nomination.slot.opportunity.workspace,
            target=nomination,
            data={"how": "quiet", "quiet_days": QUIET_DAYS},
        )
        accepted.append(nomination)
    return accepted
