"""Glossary terms and visions on world.engagement, for the URL access table and view tests."""

from __future__ import annotations

import itertools

from confiance.alignment import services
from tests.conftest import World

_n = itertools.count()


def a_proposal(world: World) -> dict[str, object]:
    """URL kwargs of a new term the member proposed (a fresh one each call)."""
    entry = services.glossary_propose(
        membership=world.member,
        engagement=world.engagement,
        term=f"Lot {next(_n)}",
        meaning="A batch of records migrated together",
    )
    return {"ws": world.workspace.slug, "pk": world.engagement.pk, "entry_id": entry.pk}


def an_agreed_term(world: World) -> dict[str, object]:
    """URL kwargs of a term both sides agreed to."""
    kwargs = a_proposal(world)
    entry = services.GlossaryEntry.objects.get(pk=kwargs["entry_id"])
    services.glossary_agree(membership=world.client_contact, entry=entry)
    return kwargs


def a_vision_proposal(world: World) -> dict[str, object]:
    """URL kwargs of a vision the member proposed (a fresh one each call)."""
    vision = services.vision_propose(
        membership=world.member,
        engagement=world.engagement,
        problem="Patient records live in three systems",
        outcome="One record per patient, migrated without loss",
        success="Every record reconciled; the old systems switched off",
    )
    return {"ws": world.workspace.slug, "pk": world.engagement.pk, "vision_id": vision.pk}
