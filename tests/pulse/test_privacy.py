"""Privacy of the pulse: an answer is its author's; sides see aggregates of three or more, after
the round closes, or a one-person side's signed answer. Nobody else, not even the owner."""

from __future__ import annotations

from django.test import Client as HttpClient

from confiance import access
from confiance.pulse import selectors
from confiance.pulse.models import PulseSurvey
from tests.conftest import World
from tests.pulse.support import (
    add_client_contacts,
    answer,
    open_round,
    past_round,
    staff_engagement,
)


def _client_side(world: World, survey: PulseSurvey) -> selectors.SideResult:
    page = selectors.pulse_page(fetched_by=world.owner, engagement=world.engagement)
    found = next(r for r in page.rounds if r.survey.pk == survey.pk)
    return found.sides[1]


def _page(client: HttpClient, world: World) -> str:
    response = client.get(f"/w/provider/engagements/{world.engagement.pk}/pulse/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_cannot_read_an_individual_answer(world: World, client: HttpClient) -> None:
    survey = open_round(world)
    row = answer(world.client_contact, survey, 1, comment="SECRET-REMARK")
    assert not access.can_read_pulse_answer(world.owner, row.respondent_id, row.signed)
    assert access.can_read_pulse_answer(world.client_contact, row.respondent_id, row.signed)
    client.force_login(world.owner.user)
    assert "SECRET-REMARK" not in _page(client, world)


def test_the_author_sees_their_own_answer_in_the_form(world: World, client: HttpClient) -> None:
    survey = open_round(world)
    answer(world.client_contact, survey, 2, comment="MY-OWN-REMARK")
    client.force_login(world.client_contact.user)
    html = _page(client, world)
    assert "MY-OWN-REMARK" in html and "Answered." in html


def test_aggregates_are_hidden_below_three_answers(world: World, client: HttpClient) -> None:
    add_client_contacts(world, 1)  # client side: two people
    survey = past_round(world)
    answer(world.client_contact, survey, 1, comment="SECRET-REMARK")
    result = _client_side(world, survey)
    assert result.answered == 1 and not result.visible and result.means == {}
    assert result.mean_list() == [None] * 5
    client.force_login(world.owner.user)
    html = _page(client, world)
    assert "fewer than 3" in html and "1.0" not in html and "SECRET-REMARK" not in html


def test_two_answers_stay_hidden_even_from_their_own_side(world: World) -> None:
    others = add_client_contacts(world, 1)
    survey = past_round(world)
    answer(world.client_contact, survey, 1)
    answer(others[0], survey, 5)
    page = selectors.pulse_page(fetched_by=world.client_contact, engagement=world.engagement)
    assert not page.rounds[0].sides[1].visible


def test_three_answers_show_means_and_count_to_both_sides_once_closed(
    world: World, client: HttpClient
) -> None:
    others = add_client_contacts(world, 2)
    survey = past_round(world)
    answer(world.client_contact, survey, 1, comment="SECRET-REMARK")
    answer(others[0], survey, 2)
    answer(others[1], survey, 4, discretion=5)
    result = _client_side(world, survey)
    assert result.visible and result.answered == 3
    assert result.means["common_language"] == 2.3 and result.means["discretion"] == 2.7
    for persona in ("owner", "client_contact"):
        client.force_login(world.user(persona))
        html = _page(client, world)
        assert "2.3" in html and "SECRET-REMARK" not in html


def test_means_of_an_open_round_wait_for_its_closing(world: World) -> None:
    others = add_client_contacts(world, 2)
    survey = open_round(world)
    for m in (world.client_contact, *others):
        answer(m, survey, 3)
    assert not _client_side(world, survey).visible


def test_a_signed_single_answer_is_visible_with_its_name(world: World, client: HttpClient) -> None:
    survey = open_round(world)  # the client side is Carla alone
    answer(world.client_contact, survey, 4, comment="Signed remark", signed=True)
    result = _client_side(world, survey)
    assert result.visible and result.means["proximity"] == 4.0
    assert result.signed_by == "Carla Contact" and result.signed_comment == "Signed remark"
    client.force_login(world.member.user)
    html = _page(client, world)
    assert "Signed by Carla Contact" in html and "Signed remark" in html


def test_an_unsigned_single_answer_stays_hidden(world: World) -> None:
    survey = past_round(world)
    answer(world.client_contact, survey, 4, comment="Quiet remark")
    result = _client_side(world, survey)
    assert not result.visible and result.signed_by == "" and result.signed_comment == ""


def test_the_sides_are_counted_apart(world: World) -> None:
    staff_engagement(world)
    others = add_client_contacts(world, 2)
    survey = past_round(world)
    for m in (world.client_contact, *others):
        answer(m, survey, 5)
    answer(world.member, survey, 1)
    page = selectors.pulse_page(fetched_by=world.owner, engagement=world.engagement)
    provider, client_side = page.rounds[0].sides
    assert client_side.visible and client_side.means["receptivity"] == 5.0
    assert not provider.visible and provider.means == {}


def test_trend_lists_rounds_newest_first(world: World) -> None:
    others = add_client_contacts(world, 2)
    older = past_round(world, 30)
    newer = past_round(world, 12)
    for survey, value in ((older, 2), (newer, 4)):
        for m in (world.client_contact, *others):
            answer(m, survey, value)
    page = selectors.pulse_page(fetched_by=world.client_contact, engagement=world.engagement)
    assert [r.sides[1].means["common_vision"] for r in page.rounds] == [4.0, 2.0]
    assert [r.survey.pk for r in page.rounds] == [newer.pk, older.pk]


def test_aggregate_rule_itself() -> None:
    rule = access.can_see_pulse_aggregate
    assert not rule(answered=2, asked=5, signed=0, closed=True)
    assert rule(answered=3, asked=5, signed=0, closed=True)
    assert not rule(answered=3, asked=5, signed=0, closed=False)
    assert rule(answered=1, asked=1, signed=1, closed=False)
    assert not rule(answered=1, asked=1, signed=0, closed=True)
    assert not rule(answered=1, asked=2, signed=1, closed=True)
