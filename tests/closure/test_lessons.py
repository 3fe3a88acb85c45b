"""The retrospective's lessons feed the lesson library when the client approves the closure."""

from __future__ import annotations

import pytest
from django.apps import apps

from confiance.closure import selectors, services
from confiance.closure.models import Attainment, Closure, Side
from tests.closure.support import objectives, started
from tests.conftest import World

pytestmark = pytest.mark.skipif(
    not apps.is_installed("confiance.lessons"), reason="the lesson library app is not installed"
)


def approve(world: World) -> None:
    closure = Closure.objects.select_related("engagement").get(engagement=world.engagement)
    current = selectors.current_hash(fetched_by=world.client_contact, closure=closure)
    services.closure_approve(membership=world.client_contact, closure=closure, seen_hash=current)


def prepare(world: World) -> Closure:
    closure = started(world)
    for objective in objectives(world):
        services.objective_assess(
            membership=world.member,
            closure=closure,
            objective=objective,
            attainment=Attainment.ATTAINED,
            evidence="Mesuré",
        )
    services.retrospective_write(
        membership=world.member,
        closure=closure,
        side=Side.PROVIDER,
        went_well="",
        to_improve="",
        lessons="Répéter la bascule avant le jour J\n- Nommer un responsable par risque",
    )
    services.retrospective_write(
        membership=world.client_contact,
        closure=closure,
        side=Side.CLIENT,
        went_well="",
        to_improve="",
        lessons="Impliquer l'exploitation dès le cadrage",
    )
    return closure


def test_approval_files_each_lesson_line_in_the_library(world: World):
    from confiance.lessons.models import Lesson

    prepare(world)
    assert not Lesson.objects.exists()
    approve(world)
    lessons = {lesson.title: lesson for lesson in Lesson.objects.all()}
    assert set(lessons) == {
        "Répéter la bascule avant le jour J",
        "Nommer un responsable par risque",
        "Impliquer l'exploitation dès le cadrage",
    }
    assert lessons["Nommer un responsable par risque"].created_by == world.member.user
    assert lessons["Nommer un responsable par risque"].engagement == world.engagement
    # The client cannot write in the provider's library: the closure's starter files it,
    # and the text names who said it.
    client_lesson = lessons["Impliquer l'exploitation dès le cadrage"]
    assert client_lesson.created_by == world.owner.user
    assert "Carla Contact" in client_lesson.text
    assert {t.name for t in client_lesson.tags.all()} == {"retrospective"}


def test_a_new_approval_files_only_new_lessons(world: World):
    from confiance.lessons.models import Lesson

    closure = prepare(world)
    approve(world)
    services.retrospective_write(
        membership=world.member,
        closure=closure,
        side=Side.PROVIDER,
        went_well="",
        to_improve="",
        lessons="Répéter la bascule avant le jour J\nNommer un responsable par risque\n"
        "Écrire le plan de retour arrière",
    )
    approve(world)
    assert Lesson.objects.count() == 4
    assert Lesson.objects.filter(title="Écrire le plan de retour arrière").count() == 1


def test_no_lesson_is_filed_before_the_approval(world: World):
    from confiance.lessons.models import Lesson

    prepare(world)
    assert Lesson.objects.count() == 0
