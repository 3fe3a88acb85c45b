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


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def an_attachment(world: World) -> dict[str, object]:
    """URL kwargs of a PDF the client attached to the problem (created once per world)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from confiance.problems.models import Problem
    from confiance.problems.services import problem_comment_share

    cached = getattr(world, "_attachment_id", None)
    if cached is None:
        comment = problem_comment_share(
            membership=world.client_contact,
            problem=Problem.objects.get(pk=a_problem(world)),
            text="The log of last night",
            attachment=SimpleUploadedFile("export.pdf", PDF, content_type="application/pdf"),
        )
        cached = comment.attachments.get().pk
        world._attachment_id = cached  # type: ignore[attr-defined]
    return {**problem_kwargs(world), "attachment_id": cached}
