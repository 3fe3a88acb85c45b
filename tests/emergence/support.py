"""An opportunity of client A with the owner as opener, the expert and the client contact joined."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from confiance.emergence import services
from confiance.emergence.models import Attachment, Opportunity, RoleSlot
from tests.conftest import World


def open_opportunity(world: World, **extra: object) -> Opportunity:
    fields = {
        "title": "Data platform for Client A",
        "client": world.client_a,
        "client_problem": "Reports take a week to produce.",
        "client_solution_idea": "A data warehouse.",
        "provider_interpretation": "Short iterations, each with a cap.",
        **extra,
    }
    return services.opportunity_open(membership=world.owner, **fields)  # type: ignore[arg-type]


def with_people(world: World) -> Opportunity:
    """Opened by the owner; the expert and client A's contact invited and joined."""
    opportunity = open_opportunity(world)
    for persona in ("expert", "client_contact"):
        services.opportunity_invite(
            membership=world.owner,
            opportunity=opportunity,
            email=world.user(persona).email,
            introduction=f"Introducing {persona}",
        )
        services.participant_join(membership=getattr(world, persona), opportunity=opportunity)
    return opportunity


def opportunity_id(world: World) -> int:
    """For the URL-by-role test: one opportunity with everyone of it (memoised on the world)."""
    if not hasattr(world, "_opportunity"):
        world._opportunity = with_people(world)  # type: ignore[attr-defined]
    return world._opportunity.pk  # type: ignore[attr-defined]


def participant_id(world: World, persona: str = "expert") -> int:
    opportunity = Opportunity.objects.get(pk=opportunity_id(world))
    return opportunity.participants.get(user=world.user(persona)).pk


def slot_id(world: World) -> int:
    if not hasattr(world, "_slot"):
        opportunity = Opportunity.objects.get(pk=opportunity_id(world))
        world._slot = services.slot_propose(  # type: ignore[attr-defined]
            membership=world.owner, opportunity=opportunity, title="Data architect", days=20
        )
    return world._slot.pk  # type: ignore[attr-defined]


def nomination_id(world: World) -> int:
    """The expert's nomination for the slot."""
    if not hasattr(world, "_nomination"):
        slot = RoleSlot.objects.get(pk=slot_id(world))
        world._nomination = services.nomination_create(membership=world.expert, slot=slot)  # type: ignore[attr-defined]
    return world._nomination.pk  # type: ignore[attr-defined]


def post_id(world: World) -> int:
    """A post by the expert, with a PDF attached."""
    if not hasattr(world, "_post"):
        opportunity = Opportunity.objects.get(pk=opportunity_id(world))
        world._post = services.post_create(  # type: ignore[attr-defined]
            membership=world.expert,
            opportunity=opportunity,
            body="A plan, attached.",
            attachment=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan"),
        )
    return world._post.pk  # type: ignore[attr-defined]


def attachment_id(world: World) -> int:
    return Attachment.objects.get(post_id=post_id(world)).pk


def opp(world: World) -> dict[str, object]:
    return {"ws": world.workspace.slug, "pk": opportunity_id(world)}


def expert_profile_kwargs(world: World) -> dict[str, object]:
    """The expert's profile, once they take part in the opportunity client A's contact sees."""
    opportunity_id(world)
    return {"ws": world.workspace.slug, "user_id": world.expert.user.pk}


def agreement_opp(world: World) -> dict[str, object]:
    """The test opportunity, converging, with its agreement started (memoised)."""
    if not hasattr(world, "_agreement"):
        opportunity = Opportunity.objects.get(pk=opportunity_id(world))
        services.phase_move(membership=world.owner, opportunity=opportunity, to_phase="converging")
        world._agreement = services.agreement_start(  # type: ignore[attr-defined]
            membership=world.owner, opportunity=opportunity, language="en"
        )
    return opp(world)


def clause_kwargs(world: World) -> dict[str, object]:
    return {**agreement_opp(world), "key": "purpose"}


def converted_engagement(world: World) -> dict[str, object]:
    """An engagement converted from a second, agreed opportunity of client A (memoised)."""
    if not hasattr(world, "_converted"):
        opportunity = with_people(world)
        services.phase_move(membership=world.owner, opportunity=opportunity, to_phase="converging")
        services.agreement_start(membership=world.owner, opportunity=opportunity, language="fr")
        version = services.terms_set(
            membership=world.owner,
            opportunity=opportunity,
            budget_days=30,
            iterations=3,
            iteration_days=10,
            trust_review_weeks=4,
            objectives="Un objectif",
        )
        for persona in ("owner", "client_contact"):
            services.agreement_accept(
                membership=getattr(world, persona),
                opportunity=opportunity,
                version_number=version.number,
                sha256=version.sha256,
            )
        world._converted = services.opportunity_convert(  # type: ignore[attr-defined]
            membership=world.owner, opportunity=opportunity
        )
    return {"ws": world.workspace.slug, "pk": world._converted.pk}  # type: ignore[attr-defined]
