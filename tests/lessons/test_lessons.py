"""Lessons: the library, sources, tags, similar lessons, and "the same mistake twice"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from confiance.lessons import selectors, services
from confiance.lessons.models import Lesson
from confiance.problems.services import problem_raise
from tests.conftest import World

MIGRATION_LESSON = (
    "Migration des données ratée",
    "Toujours tester la reprise des données sur une copie complète de la base avant la bascule.",
)


def lesson(world: World, title: str, text: str, **kw) -> Lesson:  # type: ignore[no-untyped-def]
    return services.lesson_create(membership=world.member, title=title, text=text, **kw)


def problem(world: World, title: str, description: str = ""):  # type: ignore[no-untyped-def]
    return problem_raise(
        membership=world.client_contact,
        engagement=world.engagement,
        title=title,
        description=description,
        severity="high",
    )


def age(obj, days: int) -> None:  # type: ignore[no-untyped-def]
    """Move a lesson or problem `days` into the past."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=obj.created_at - timedelta(days=days))
    obj.refresh_from_db()


# Library ----------------------------------------------------------------------------------------


def test_lesson_sources(world: World) -> None:
    p = problem(world, "Late deliverable")
    from_problem = lesson(world, "Plan buffers", "Keep a buffer.", problem=p)
    assert from_problem.source_label == "problem"
    assert from_problem.engagement == world.engagement
    retro = lesson(world, "Weekly demo", "Demo every week.", engagement=world.engagement)
    assert retro.source_label == "retrospective" and retro.problem is None
    assert lesson(world, "Misc", "Something.").source_label == "other"


def test_tags_are_normalised_and_shared(world: World) -> None:
    first = lesson(world, "A", "a text", tags="Data, migration;  DATA")
    second = lesson(world, "B", "b text", tags=["data"])
    assert sorted(t.name for t in first.tags.all()) == ["data", "migration"]
    assert list(second.tags.values_list("pk", flat=True)) == list(
        first.tags.filter(name="data").values_list("pk", flat=True)
    )
    tagged = selectors.lesson_list(fetched_by=world.owner, tag="Migration")
    assert [x.pk for x in tagged] == [first.pk]


@pytest.mark.parametrize("persona", ["client_contact", "expert"])
def test_clients_and_experts_neither_write_nor_read_lessons(world: World, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.lesson_create(membership=getattr(world, persona), title="x", text="y", tags="")
    assert selectors.similar_lessons(fetched_by=getattr(world, persona), text="anything") == []


def test_lesson_of_another_workspace_problem_is_refused(world: World) -> None:
    foreign = problem_raise(
        membership=world.outsider,
        engagement=world.foreign_engagement,
        title="Theirs",
        severity="low",
    )
    with pytest.raises(PermissionDenied):
        lesson(world, "x", "y", problem=foreign)


def test_lesson_needs_a_title_and_a_text(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        lesson(world, " ", " ")
    assert set(error.value.error_dict) == {"title", "text"}


# Similar lessons ----------------------------------------------------------------------------------


def test_similar_lessons_for_a_french_problem(world: World) -> None:
    french = lesson(world, *MIGRATION_LESSON)
    lesson(world, "Deploy on Fridays", "Never deploy on a Friday evening without a rollback plan.")
    found = selectors.similar_lessons(
        fetched_by=world.member, text="La reprise des donnees a echoue lors de la bascule"
    )
    assert found[0].lesson == french and found[0].percent > 10


def test_similar_lessons_for_an_english_problem(world: World) -> None:
    lesson(world, *MIGRATION_LESSON)
    english = lesson(
        world, "Deploy on Fridays", "Never deploy on a Friday evening without a rollback plan."
    )
    found = selectors.similar_lessons(fetched_by=world.member, text="Friday deployment broke")
    assert [s.lesson for s in found] == [english]


def test_similar_lessons_stay_in_the_workspace(world: World) -> None:
    services.lesson_create(
        membership=world.outsider, title="Deploy on Fridays", text="Never deploy on a Friday."
    )
    assert selectors.similar_lessons(fetched_by=world.member, text="deploy friday") == []


# The same mistake twice -------------------------------------------------------------------------


def test_problem_linked_to_an_earlier_lesson_is_a_repeat(world: World) -> None:
    old = lesson(world, "Kick-off", "Invite the sponsor to the kick-off.")
    age(old, 30)
    p = problem(world, "Sponsor absent again")
    services.lesson_repeat_link(membership=world.member, problem=p, lesson=old)
    figure = selectors.repeat_figure(fetched_by=world.owner)
    assert (figure.repeats, figure.total) == (1, 1)
    assert figure.percent == 100


def test_link_to_a_lesson_written_after_the_problem_is_refused(world: World) -> None:
    p = problem(world, "Sponsor absent")
    age(p, 10)
    later = lesson(world, "Kick-off", "Invite the sponsor.")
    with pytest.raises(ValidationError):
        services.lesson_repeat_link(membership=world.member, problem=p, lesson=later)
    with pytest.raises(PermissionDenied):
        services.lesson_repeat_link(membership=world.client_contact, problem=p, lesson=later)


def test_problem_very_similar_to_an_older_lesson_is_a_repeat(world: World) -> None:
    old = lesson(world, *MIGRATION_LESSON)
    age(old, 60)
    repeat = problem(
        world,
        "Migration des données ratée",
        "La reprise des données n'a pas été testée sur une copie de la base avant la bascule.",
    )
    problem(world, "Factures envoyées en retard", "Le calendrier de facturation est mal compris.")
    figure = selectors.repeat_figure(fetched_by=world.owner)
    assert [p.pk for p in figure.repeated] == [repeat.pk]
    assert (figure.repeats, figure.total) == (1, 2)


def test_a_lesson_newer_than_the_problem_does_not_make_it_a_repeat(world: World) -> None:
    p = problem(world, *MIGRATION_LESSON)
    age(p, 5)
    lesson(world, *MIGRATION_LESSON)
    assert selectors.repeat_figure(fetched_by=world.owner).repeats == 0


def test_the_lesson_of_the_problem_itself_does_not_count(world: World) -> None:
    p = problem(world, *MIGRATION_LESSON)
    own = lesson(world, *MIGRATION_LESSON, problem=p)
    type(own).objects.filter(pk=own.pk).update(created_at=p.created_at - timedelta(days=1))
    assert selectors.repeat_figure(fetched_by=world.owner).repeats == 0


def test_threshold_separates_rephrasing_from_unrelated(world: World) -> None:
    from confiance.lessons.similarity import TfIdfIndex

    index = TfIdfIndex(
        {
            1: " ".join(MIGRATION_LESSON),
            2: "Deploy on Fridays. Never deploy on a Friday evening without a rollback plan.",
            3: "Invoices late. Agree the billing calendar with accounts payable.",
        }
    )
    rephrased = "Reprise des données non testée avant la bascule de la base"
    unrelated = "Le sponsor n'est pas venu au comité de pilotage"
    assert index.score(rephrased, 1) >= selectors.REPEAT_THRESHOLD
    assert max(index.scores(unrelated).values(), default=0) < 0.15


# Pages ------------------------------------------------------------------------------------------


def test_library_page_filters_by_tag_and_shows_the_figure(world: World, login) -> None:  # type: ignore[no-untyped-def]
    lesson(world, "About data", "Data lesson text.", tags="data")
    lesson(world, "About people", "People lesson text.", tags="people")
    http = login("member")
    url = reverse("lesson-list", kwargs={"ws": world.workspace.slug})
    page = http.get(url + "?tag=data").content.decode()
    assert "About data" in page and "About people" not in page
    assert 'data-testid="repeat-figure"' in page


def test_library_form_adds_a_lesson_or_keeps_input(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    url = reverse("lesson-list", kwargs={"ws": world.workspace.slug})
    response = http.post(url, {"title": "", "text": "KEEP-THIS", "tags": ""})
    assert response.status_code == 400 and "KEEP-THIS" in response.content.decode()
    response = http.post(url, {"title": "New", "text": "Text", "tags": "x, y"})
    assert response.status_code == 302
    assert Lesson.objects.get(title="New").source_label == "other"


def test_similar_panel_answers_htmx(world: World, login) -> None:  # type: ignore[no-untyped-def]
    lesson(world, *MIGRATION_LESSON)
    url = reverse("lesson-similar", kwargs={"ws": world.workspace.slug})
    response = login("member").get(
        url, {"title": "migration des donnees", "description": ""}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Migration des données ratée" in body
    assert "<html" not in body, "a partial, not a page"
    assert login("client_contact").get(url, {"title": "migration"}).status_code == 404


def test_problem_page_offers_this_happened_again(world: World, login) -> None:  # type: ignore[no-untyped-def]
    old = lesson(world, *MIGRATION_LESSON)
    age(old, 30)
    p = problem(world, "Migration des données ratée encore", "Reprise non testée")
    kwargs = {"ws": world.workspace.slug, "pk": world.engagement.pk, "problem_id": p.pk}
    http = login("member")
    page = http.get(reverse("problem-detail", kwargs=kwargs)).content.decode()
    assert "This happened again" in page
    response = http.post(reverse("problem-repeat", kwargs=kwargs), {"lesson": old.pk})
    assert response.status_code == 302
    assert p.repeats.filter(lesson=old).exists()
    client_page = login("client_contact").get(reverse("problem-detail", kwargs=kwargs))
    assert "Migration des données ratée</strong>" not in client_page.content.decode()


def test_problem_lesson_page_creates_a_lesson_from_the_problem(world: World, login) -> None:  # type: ignore[no-untyped-def]
    p = problem(world, "Late deliverable")
    kwargs = {"ws": world.workspace.slug, "pk": world.engagement.pk, "problem_id": p.pk}
    response = login("member").post(
        reverse("problem-lesson", kwargs=kwargs),
        {"title": "Buffers", "text": "Plan a buffer.", "tags": "planning"},
    )
    assert response.status_code == 302
    assert Lesson.objects.get(title="Buffers").problem == p


def test_library_query_count_does_not_grow(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    url = reverse("lesson-list", kwargs={"ws": world.workspace.slug})

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx.captured_queries)

    def add(n: int, offset: int) -> None:
        for i in range(n):
            p = problem(world, f"Problem {offset + i}")
            lesson(world, f"Lesson {offset + i}", "Some text", tags=f"t{i}, common", problem=p)

    add(2, 0)
    few = count()
    add(10, 100)
    assert count() == few
