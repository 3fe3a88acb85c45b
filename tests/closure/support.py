"""Helpers shared by the closure tests and the URL access matrix."""

from __future__ import annotations

from confiance.closure import services
from confiance.closure.models import Closure, Outcome
from confiance.engagements.models import Objective
from confiance.engagements.services import objective_add
from tests.conftest import World


def objectives(world: World) -> list[Objective]:
    """Two objectives on world.engagement (created once)."""
    existing = list(world.engagement.objectives.all())
    if existing:
        return existing
    return [
        objective_add(
            membership=world.owner,
            engagement=world.engagement,
            text="Migrer la base clients sans interruption",
            success_measure="Zéro minute d'arrêt mesurée",
        ),
        objective_add(
            membership=world.owner,
            engagement=world.engagement,
            text="Former l'équipe à la maintenance",
            success_measure="Trois personnes autonomes",
        ),
    ]


def started(world: World) -> Closure:
    """world.engagement with its objectives and a started closure (created once)."""
    objectives(world)
    existing = Closure.objects.filter(engagement=world.engagement).first()
    if existing is not None:
        return existing
    return services.closure_start(
        membership=world.owner, engagement=world.engagement, outcome=Outcome.COMPLETED
    )


def closure_kwargs(world: World, objective: bool = False) -> dict[str, object]:
    """URL kwargs of world.engagement's closure page family, the closure started."""
    started(world)
    kwargs: dict[str, object] = {"ws": world.workspace.slug, "pk": world.engagement.pk}
    if objective:
        kwargs["objective_id"] = objectives(world)[0].pk
    return kwargs


def close_through_the_closure(world: World, engagement: object) -> None:
    """Close an engagement (without objectives) the only way there is: the client's approval."""
    from confiance.closure.selectors import current_hash
    from confiance.core.models import Membership, Role

    closure = services.closure_start(
        membership=world.owner,
        engagement=engagement,  # type: ignore[arg-type]
        outcome=Outcome.COMPLETED,
    )
    contact = Membership.objects.get(
        workspace=world.workspace,
        role=Role.CLIENT,
        client_id=closure.engagement.client_id,
    )
    services.closure_approve(
        membership=contact,
        closure=closure,
        seen_hash=current_hash(fetched_by=contact, closure=closure),
    )
