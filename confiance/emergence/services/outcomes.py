"""How an opportunity ends: converted into an engagement, or declined with a referral.

Converting goes through the engagements' (and consumption's) services, never writing an
engagement directly: the engagement carries the client, the team and their roles, the agreed
terms (objectives, budget cap, iterations) and the contact origin *emergence*; the acceptances
of the agreement become the first facts of the engagement's ledger (the ledger is per
engagement, so they enter it when the engagement exists: each with its original time, side,
version and SHA-256, voided ones included, then the agreed version).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from confiance import access
from confiance.core.audit import audit_record
from confiance.core.models import INTERNAL_ROLES, Membership, Role
from confiance.emergence.models import (
    CLOSED_PHASES,
    Acceptance,
    Agreement,
    Nomination,
    NominationStatus,
    Opportunity,
    Partner,
    Phase,
    Referral,
    ReferralDirection,
)
from confiance.emergence.services.agreements import AGREEMENT_PHASES, agreed_version
from confiance.emergence.services.common import notify
from confiance.emergence.services.opportunities import _move
from confiance.engagements.models import ContactOrigin, Engagement, EngagementStatus


def _active_people(opportunity: Opportunity) -> list:
    return [
        p.user
        for p in opportunity.participants.select_related("user").filter(
            user__isnull=False,
            joined_at__isnull=False,
            declined_at__isnull=True,
            left_at__isnull=True,
            removed_at__isnull=True,
        )
    ]


def _lock(opportunity: Opportunity) -> None:
    """Lock the row and read the phase afresh: two people ending it at once cannot both win."""
    opportunity.phase = (
        Opportunity.objects.select_for_update()
        .values_list("phase", flat=True)
        .get(pk=opportunity.pk)
    )


@transaction.atomic
def opportunity_convert(*, membership: Membership, opportunity: Opportunity) -> Engagement:
    """Turn an agreed opportunity into an active engagement (the opener or the owner)."""
    from confiance.consumption.services import budget_revise, team_member_set
    from confiance.engagements.services import engagement_create, interlocutor_set, objective_add
    from confiance.ledger.services import ledger_append_many

    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    _lock(opportunity)
    if opportunity.phase not in AGREEMENT_PHASES:
        raise ValidationError(_("Only an opportunity that converges can become an engagement."))
    agreement = Agreement.objects.filter(opportunity=opportunity).first()
    agreed = agreed_version(agreement) if agreement is not None else None
    if agreement is None or agreed is None:
        raise ValidationError(
            _("The client and the provider must first accept the same version of the agreement.")
        )
    terms = agreed.terms
    with translation.override(agreement.language):
        summary = _(
            "Agreed in version %(n)s of the agreement: %(iterations)s iterations of at most "
            "%(iteration_days)s days each, within a budget cap of %(budget_days)s days; either "
            "side may stop at the end of any iteration; trust review every %(weeks)s weeks."
        ) % {
            "n": agreed.number,
            "iterations": terms["iterations"],
            "iteration_days": terms["iteration_days"],
            "budget_days": terms["budget_days"],
            "weeks": terms["trust_review_weeks"],
        }
        default_measure = _("Judged in the closure analysis, as the agreement says.")
        budget_reason = _("Budget cap of the agreement, version %(n)s (SHA-256 %(sha)s).") % {
            "n": agreed.number,
            "sha": agreed.sha256[:16],
        }
    opener = opportunity.opened_by
    engagement = engagement_create(
        membership=membership,
        client=opportunity.client,
        title=opportunity.title,
        contact_origin=ContactOrigin.EMERGENCE,
        status=EngagementStatus.ACTIVE,
        start_date=timezone.localdate(),
        lead=opener,
        summary=summary,
        client_problem=opportunity.client_problem,
        client_solution_idea=opportunity.client_solution_idea,
        provider_interpretation=opportunity.provider_interpretation,
    )
    opportunity.engagement = engagement
    opportunity.save(update_fields=["engagement"])
    for line in terms.get("objectives", []):
        text, _sep, measure = line.partition(" | ")
        objective_add(
            membership=membership,
            engagement=engagement,
            tell=False,  # both sides accepted them in the agreement
            text=text.strip() or line,
            success_measure=measure.strip() or default_measure,
        )
    budget_revise(
        membership=membership,
        engagement=engagement,
        days=Decimal(terms["budget_days"]),
        amount=None,
        reason=budget_reason,
        tell=False,  # both sides accepted it in the agreement
    )
    # The team and their roles: whoever holds a role, the provider's people on the rate card too;
    # the client's contacts who took part as the client's interlocutors.
    held = Nomination.objects.filter(
        slot__opportunity=opportunity, status=NominationStatus.ACCEPTED
    ).select_related("slot", "person")
    internal_ids = set(
        Membership.objects.filter(
            workspace_id=opportunity.workspace_id, role__in=INTERNAL_ROLES
        ).values_list("user_id", flat=True)
    )
    roles: dict[int, list[str]] = {}
    people = {}
    for nomination in held:
        roles.setdefault(nomination.person_id, []).append(nomination.slot.title)
        people[nomination.person_id] = nomination.person
    for person_id, titles in roles.items():
        title = ", ".join(titles)[:80]
        interlocutor_set(
            membership=membership,
            engagement=engagement,
            user=people[person_id],
            role=title,
            tell=False,  # the team both sides formed; the conversion is told of itself
        )
        if person_id in internal_ids:
            team_member_set(
                membership=membership, engagement=engagement, user=people[person_id], title=title
            )
    client_ids = set(
        Membership.objects.filter(
            workspace_id=opportunity.workspace_id,
            role=Role.CLIENT,
            client_id=opportunity.client_id,
        ).values_list("user_id", flat=True)
    )
    for person in _active_people(opportunity):
        if person.pk in client_ids and person.pk not in roles:
            interlocutor_set(membership=membership, engagement=engagement, user=person, tell=False)
    acceptances = list(
        Acceptance.objects.filter(agreement=agreement).select_related("by", "version")
    )
    ledger_append_many(
        engagement=engagement,
        kind="agreement.acceptance",
        payloads=[
            {
                "opportunity": opportunity.pk,
                "version": a.version.number,
                "sha256": a.sha256,
                "side": a.side,
                "person": a.by.email,
                "accepted_at": a.at.isoformat(timespec="seconds"),
                "voided_at": a.voided_at.isoformat(timespec="seconds") if a.voided_at else None,
            }
            for a in acceptances
        ],
        actor=membership.user,
    )
    ledger_append_many(
        engagement=engagement,
        kind="agreement.agreed",
        payloads=[
            {
                "opportunity": opportunity.pk,
                "version": agreed.number,
                "sha256": agreed.sha256,
                "budget_days": terms["budget_days"],
                "iterations": terms["iterations"],
                "iteration_days": terms["iteration_days"],
                "trust_review_weeks": terms["trust_review_weeks"],
                "objectives": terms.get("objectives", []),
            }
        ],
        actor=membership.user,
    )
    _move(
        membership=membership,
        opportunity=opportunity,
        to_phase=Phase.CONVERTED,
        reason="",
        tell=False,
    )
    audit_record(
        verb="opportunity.convert",
        actor=membership.user,
        workspace=membership.workspace,
        target=opportunity,
        data={"engagement": engagement.pk, "version": agreed.number, "sha256": agreed.sha256},
    )
    notify(
        opportunity,
        [u for u in _active_people(opportunity) if u.pk != membership.user_id],
        "emergence.converted",
        {"opportunity": opportunity.title, "who": membership.user.get_full_name()},
    )
    return engagement


# Saying no, and pointing to someone who can ------------------------------------------------------


@transaction.atomic
def opportunity_decline(
    *,
    membership: Membership,
    opportunity: Opportunity,
    reason: str,
    partner: Partner | None = None,
) -> Opportunity:
    """Decline: say why in plain words and, when someone fits, the partner the client is
    pointed to (a referral given, counted in the workspace's figures)."""
    if not access.can_steer_opportunity(membership, opportunity.opened_by_id):
        raise PermissionDenied
    _lock(opportunity)
    errors: dict[str, str] = {}
    if opportunity.phase in CLOSED_PHASES:
        errors["reason"] = _("This opportunity is closed: nothing changes any more.")
    elif not reason.strip():
        errors["reason"] = _("Say why: the client reads it.")
    elif len(reason) > 5000:
        errors["reason"] = _("Keep it under 5,000 characters.")
    if partner is not None and partner.workspace_id != opportunity.workspace_id:
        errors["partner"] = _("Choose a partner of this workspace.")
    if errors:
        raise ValidationError(errors)
    opportunity.decline_reason = reason.strip()
    opportunity.referred_to = partner
    opportunity.save(update_fields=["decline_reason", "referred_to"])
    _move(
        membership=membership,
        opportunity=opportunity,
        to_phase=Phase.DECLINED,
        reason=reason,
        tell=False,
    )
    if partner is not None:
        Referral.objects.create(
            workspace_id=opportunity.workspace_id,
            partner=partner,
            direction=ReferralDirection.GIVEN,
            opportunity=opportunity,
            client_name=opportunity.client.name,
            recorded_by=membership.user,
        )
    audit_record(
        verb="opportunity.decline",
        actor=membership.user,
        workspace=membership.workspace,
        target=opportunity,
        data={"reason": opportunity.decline_reason, "partner": partner.name if partner else None},
    )
    notify(
        opportunity,
        [u for u in _active_people(opportunity) if u.pk != membership.user_id],
        "emergence.declined",
        {
            "opportunity": opportunity.title,
            "who": membership.user.get_full_name(),
            "reason": opportunity.decline_reason,
            "partner": partner.name if partner else "",
        },
    )
    return opportunity


def _can_manage_partners(membership: Membership) -> bool:
    return access.is_internal(membership) and membership.role != Role.FINANCE


@transaction.atomic
def partner_create(
    *, membership: Membership, name: str, speciality: str = "", contact: str = ""
) -> Partner:
    """Add a firm or a person to the workspace's partner directory."""
    if not _can_manage_partners(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("Name the partner.")
    elif Partner.objects.filter(
        workspace_id=membership.workspace_id, name__iexact=name.strip()
    ).exists():
        errors["name"] = _("This partner is already in the directory.")
    if errors:
        raise ValidationError(errors)
    partner = Partner.objects.create(
        workspace_id=membership.workspace_id,
        name=name.strip(),
        speciality=speciality.strip(),
        contact=contact.strip(),
    )
    audit_record(
        verb="partner.create", actor=membership.user, workspace=membership.workspace, target=partner
    )
    return partner


@transaction.atomic
def referral_record_received(
    *, membership: Membership, partner: Partner, client_name: str, note: str = ""
) -> Referral:
    """Record a client a partner pointed to us: referrals go both ways."""
    if not _can_manage_partners(membership):
        raise PermissionDenied
    errors: dict[str, str] = {}
    if partner.workspace_id != membership.workspace_id:
        errors["partner"] = _("Choose a partner of this workspace.")
    if not client_name.strip():
        errors["client_name"] = _("Name the client.")
    if errors:
        raise ValidationError(errors)
    referral = Referral.objects.create(
        workspace_id=membership.workspace_id,
        partner=partner,
        direction=ReferralDirection.RECEIVED,
        client_name=client_name.strip(),
        note=note.strip(),
        recorded_by=membership.user,
    )
    audit_record(
        verb="referral.received",
        actor=membership.user,
        workspace=membership.workspace,
        target=referral,
        data={"partner": partner.name},
    )
    return referral
