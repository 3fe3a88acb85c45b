"""`{% form_fields %}` writes what `{% include "form_fields.html" %}` wrote, never a stale form."""

from __future__ import annotations

from typing import Any

from django.template.loader import get_template
from django.utils import translation

from confiance.consumption.forms import EntryForm
from confiance.consumption.services import activity_create
from confiance.core.forms import model_choice_field, offer_choices
from confiance.core.models import User
from confiance.core.templatetags.form_tags import form_fields
from tests.conftest import World


def _form(world: World, data: dict[str, str] | None = None) -> EntryForm:
    return EntryForm(
        data,
        activities=world.engagement.activities.filter(is_active=True).order_by("name"),
        people=User.objects.filter(pk=world.member.user_id),
        initial={"person": world.member.user_id},
        prefix="entry",
    )


def _included(form: EntryForm) -> str:
    return get_template("form_fields.html").render({"form": form})


def test_remembered_form_is_the_included_one_in_both_languages(world: World) -> None:
    for language in ("en", "fr"):
        with translation.override(language):
            assert form_fields(_form(world)) == _included(_form(world))
            assert form_fields(_form(world)) == _included(_form(world))  # remembered
    with translation.override("fr"):
        assert "Jour travaillé" in form_fields(_form(world))
    with translation.override("en"):
        assert "Date worked" in form_fields(_form(world))


def test_a_new_choice_or_typed_values_are_never_served_from_memory(world: World) -> None:
    before = form_fields(_form(world))
    activity_create(membership=world.owner, engagement=world.engagement, name="Workshops")
    after = form_fields(_form(world))
    assert "Workshops" not in before
    assert "Workshops" in after
    bound = _form(world, {"entry-duration": "nonsense", "entry-shared_note": "typed"})
    html = form_fields(bound)
    assert "typed" in html
    assert 'class="field-error"' in html


def test_offered_rows_render_the_querysets_choices_without_a_query(
    world: World, django_assert_num_queries: Any
) -> None:
    activity_create(membership=world.owner, engagement=world.engagement, name="Workshops")
    for language in ("en", "fr"):
        with translation.override(language):
            expected = _included(_form(world))
            form = _form(world)
            offer_choices(
                model_choice_field(form, "activity"),
                list(world.engagement.activities.filter(is_active=True).order_by("name")),
            )
            offer_choices(model_choice_field(form, "person"), [world.member.user])
            with django_assert_num_queries(0):
                assert form_fields(form) == expected
    assert "Workshops" in expected
