"""How an opportunity ends: converted with everything carried over, or declined with a referral."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from confiance.consumption.models import BudgetRevision, TeamMember
from confiance.emergence import selectors, services
from confiance.emergence.models import Opportunity, Phase, Referral, RoleSlot
from confiance.engagements.models import EngagementStatus
from confiance.ledger.models import LedgerEntry
from tests.conftest import World
from tests.emergence.test_agreement import accept, with_terms

pytestmark = pytest.mark.django_db


def agreed_with_team(world: World) -> Opportunity:
    """Converging, a team (the expert as data architect, the member as lead dev), agreed."""
    opportunity = with_terms(world)
    for persona, title in (("expert", "Data architect"), ("member", "Lead developer")):
        slot = services.slot_propose(
            membership=world.owner, opportunity=opportunity, title=title, days=20
        )
        nomination = services.nomination_create(membership=getattr(world, persona), slot=slot)
        services.nomination_accept(membership=world.owner, nomination=nomination)
    accept(world, "client_contact", opportunity)
    services.clause_comment(
        membership=world.client_contact, opportunity=opportunity, key="purpose", body="Fine"
    )
    accept(world, "owner", opportunity)
    return opportunity


def test_conversion_needs_both_sides_on_the_same_version(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    accept(world, "owner", opportunity)
    with pytest.raises(ValidationError, match="same version"):
        services.opportunity_convert(membership=world.owner, opportunity=opportunity)
    with pytest.raises(PermissionDenied):
        services.opportunity_convert(membership=world.client_contact, opportunity=opportunity)


def test_conversion_carries_client_team_terms_origin_and_ledgers_acceptances(world) -> None:  # type: ignore[no-untyped-def]
    opportunity = agreed_with_team(world)
    engagement = services.opportunity_convert(membership=world.owner, opportunity=opportunity)
    opportunity.refresh_from_db()
    assert opportunity.phase == Phase.CONVERTED and opportunity.engagement == engagement
    assert engagement.client == world.client_a and engagement.contact_origin == "emergence"
    assert engagement.status == EngagementStatus.ACTIVE and engagement.lead == world.owner.user
    assert engagement.client_problem == "Reports take a week to produce."
    assert "3 iterations of at most 20 days" in engagement.summary
    objectives = list(engagement.objectives.order_by("position"))
    assert [o.text for o in objectives] == ["Weekly reports in an hour", "One source of truth"]
    assert objectives[0].success_measure == "the finance team says so"
    budget = BudgetRevision.objects.get(engagement=engagement)
    assert budget.days == Decimal(60)
    roles = {
        i.user.email: (i.side, i.role) for i in engagement.interlocutors.select_related("user")
    }
    assert roles[world.expert.user.email] == ("provider", "Data architect")
    assert roles[world.member.user.email] == ("provider", "Lead developer")
    assert roles[world.client_contact.user.email][0] == "client"
    assert TeamMember.objects.filter(engagement=engagement, user=world.member.user).exists()
    kinds = list(
        LedgerEntry.objects.filter(engagement=engagement)
        .order_by("index")
        .values_list("kind", "data")
    )
    accepted = [json.loads(d) for k, d in kinds if k == "agreement.acceptance"]
    agreed = [json.loads(d) for k, d in kinds if k == "agreement.agreed"]
    version = services.latest_version(opportunity.agreement)
    assert {a["side"] for a in accepted} == {"client", "provider"}
    assert all(a["sha256"] == version.sha256 for a in accepted)
    assert agreed[0]["sha256"] == version.sha256 and agreed[0]["budget_days"] == 60
    # Nothing moves any more; converting twice is refused.
    with pytest.raises(ValidationError):
        services.opportunity_convert(membership=world.owner, opportunity=opportunity)


def test_conversion_tells_nobody_of_the_budget_both_sides_just_agreed(
    world, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from confiance.core.models import Notice

    opportunity = agreed_with_team(world)
    with django_capture_on_commit_callbacks(execute=True):
        engagement = services.opportunity_convert(membership=world.owner, opportunity=opportunity)
    assert BudgetRevision.objects.filter(engagement=engagement).exists()
    assert not Notice.objects.filter(kind="budget.revised").exists()


def test_after_conversion_the_discussion_is_read_from_the_engagement_not_by_experts(
    world, login
) -> None:  # type: ignore[no-untyped-def]
    opportunity = agreed_with_team(world)
    services.post_create(
        membership=world.expert, opportunity=opportunity, body="Let us start with the ledger."
    )
    engagement = services.opportunity_convert(membership=world.owner, opportunity=opportunity)
    kwargs = {"ws": world.workspace.slug, "pk": engagement.pk}
    client_page = login("client_contact").get(reverse("engagement-emergence", kwargs=kwargs))
    text = client_page.content.decode()
    assert client_page.status_code == 200 and "Let us start with the ledger." in text
    assert services.latest_version(opportunity.agreement).sha256 in text
    detail = login("client_contact").get(reverse("engagement-detail", kwargs=kwargs))
    assert reverse("engagement-emergence", kwargs=kwargs) in detail.content.decode()
    expert = login("expert")
    assert expert.get(reverse("engagement-emergence", kwargs=kwargs)).status_code == 404
    assert expert.get(reverse("engagement-detail", kwargs=kwargs)).status_code == 404
    # The expert still reads the opportunity itself, told it became an engagement, with no link.
    page = expert.get(
        reverse("opportunity-detail", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk})
    ).content.decode()
    assert "This opportunity became an engagement" in page
    assert reverse("engagement-detail", kwargs=kwargs) not in page


def test_declining_says_why_and_refers_and_the_client_reads_it_in_plain_words(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_terms(world)
    partner = services.partner_create(
        membership=world.member,
        name="Atelier Données",
        speciality="Data platforms for retailers",
        contact="hello@atelier.test",
    )
    with pytest.raises(ValidationError) as refused:
        services.opportunity_decline(membership=world.owner, opportunity=opportunity, reason=" ")
    assert "reason" in refused.value.error_dict
    with pytest.raises(PermissionDenied):
        services.opportunity_decline(membership=world.member, opportunity=opportunity, reason="No")
    services.opportunity_decline(
        membership=world.owner,
        opportunity=opportunity,
        reason="We have no one free before June, and you need someone now.",
        partner=partner,
    )
    opportunity.refresh_from_db()
    assert opportunity.phase == Phase.DECLINED and opportunity.referred_to == partner
    referral = Referral.objects.get()
    assert referral.direction == "given" and referral.client_name == "Client A"
    page = (
        login("client_contact")
        .get(
            reverse("opportunity-detail", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk})
        )
        .content.decode()
    )
    assert "We have no one free before June" in page
    assert "We recommend Atelier Données" in page and "hello@atelier.test" in page
    with pytest.raises(ValidationError):
        services.opportunity_decline(
            membership=world.owner, opportunity=opportunity, reason="Again"
        )


def test_referrals_given_and_received_count_in_the_workspace_figures(world, login) -> None:  # type: ignore[no-untyped-def]
    partner = services.partner_create(membership=world.owner, name="Atelier")
    with pytest.raises(ValidationError):
        services.partner_create(membership=world.owner, name="atelier")
    with pytest.raises(PermissionDenied):
        services.partner_create(membership=world.finance, name="Other")
    services.referral_record_received(
        membership=world.member, partner=partner, client_name="Client C"
    )
    services.opportunity_decline(
        membership=world.owner,
        opportunity=with_terms(world),
        reason="Not our field.",
        partner=partner,
    )
    figures = selectors.referral_counts(fetched_by=world.owner)
    assert (figures.given, figures.received, figures.declined) == (1, 1, 1)
    page = login("finance").get(reverse("portfolio", kwargs={"ws": world.workspace.slug}))
    assert "1 given, 1 received; 1 opportunities declined." in page.content.decode()
    rows = selectors.partner_rows(fetched_by=world.owner)
    assert [(r.partner.name, r.given, r.received) for r in rows] == [("Atelier", 1, 1)]


def test_partner_forms_reject_bad_input_with_field_errors(world, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    url = reverse("partners", kwargs={"ws": world.workspace.slug})
    response = http.post(url, {"name": ""})
    assert response.status_code == 400 and "id_name-error" in response.content.decode()
    opportunity = with_terms(world)
    decline = reverse(
        "opportunity-decline", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk}
    )
    refused = login("owner").post(decline, {"reason": "", "partner": "999"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "id_reason-error" in body and "id_partner-error" in body


def test_an_expert_holding_a_role_is_not_an_interlocutor_of_other_engagements(world) -> None:  # type: ignore[no-untyped-def]
    from confiance.engagements.services import interlocutor_set

    opportunity = agreed_with_team(world)
    services.opportunity_convert(membership=world.owner, opportunity=opportunity)
    with pytest.raises(ValidationError):
        interlocutor_set(
            membership=world.owner, engagement=world.engagement_b, user=world.expert.user
        )
    assert RoleSlot.objects.filter(opportunity=opportunity).count() == 2
