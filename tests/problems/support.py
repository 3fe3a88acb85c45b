"""A problem on world.engagement, for the URL access table and view tests."""

from __future__ import annotations

from confiance.problems.services import problem_raise
from tests.conftest import World


def a_problem(world: World) -> int:
    """The id of a problem raised by the client on world.engagement (created once per world)."""
    cached = getattr(world, "_problem_id", None)
    if cached is None:
        cached = problem_raise(
            membership=world.client_contact,
            engagement=world.engagement,
            title="Nightly export fails",
            severity="high",
        ).pk
        world._problem_id = cached  # type: ignore[attr-defined]
    return cached


def problem_kwargs(world: World) -> dict[str, object]:
    return {"ws": world.workspace.slug, "pk": world.engagement.pk, "problem_id": a_problem(world)}
