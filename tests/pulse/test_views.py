"""Pulse pages: who reaches them, the answer form, my rounds, the cadence, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from confiance.pulse import services
from confiance.pulse.models import PulseAnswer, PulseSettings
from tests.conftest import World
from tests.pulse.support import (
    add_client_contacts,
    answer,
    open_round,
    past_round,
    staff_engagement,
)

VALID = {
    "common_language": "4",
    "common_vision": "3",
    "discretion": "5",
    "receptivity": "2",
    "proximity": "4",
    "comment": "Good workshop",
}


def url(world: World, engagement=None) -> str:  # type: ignore[no-untyped-def]
    engagement = engagement or world.engagement
    return f"/w/{engagement.workspace.slug}/engagements/{engagement.pk}/pulse/"


@pytest.mark.parametrize("persona", ["expert", "other_client_contact", "outsider"])
def test_pulse_page_is_not_found_out_of_reach(world: World, client: HttpClient, persona: str):
    open_round(world)
    client.force_login(world.user(persona))
    assert client.get(url(world)).status_code == 404
    assert client.post(url(world), VALID).status_code == 404


def test_a_client_does_not_reach_another_clients_pulse(world: World, client: HttpClient):
    client.force_login(world.client_contact.user)
    assert client.get(url(world, world.engagement_b)).status_code == 404
    assert client.get(url(world, world.draft)).status_code == 404


def test_the_form_shows_the_five_virtues_as_radio_groups(world: World, client: HttpClient):
    open_round(world)
    client.force_login(world.client_contact.user)
    html = client.get(url(world)).content.decode()
    assert html.count("<fieldset") == 5 and html.count('type="radio"') == 25
    assert "Common language" in html and "What is said in confidence" in html
    assert 'name="signed"' in html  # alone on the client side


def test_answering_through_the_page(world: World, client: HttpClient) -> None:
    open_round(world)
    client.force_login(world.client_contact.user)
    response = client.post(url(world), VALID)
    assert response.status_code == 302
    row = PulseAnswer.objects.get()
    assert (row.discretion, row.receptivity, row.comment, row.signed) == (
        5,
        2,
        "Good workshop",
        False,
    )
    html = client.get(url(world)).content.decode()
    assert "Answered." in html and "Change my answer" in html


def test_a_missing_score_is_shown_and_the_input_kept(world: World, client: HttpClient) -> None:
    open_round(world)
    client.force_login(world.client_contact.user)
    response = client.post(url(world), {**VALID, "proximity": "", "discretion": "9"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and "Good workshop" in html
    assert 'value="4" id="id_common_language_3" checked' in html or "checked" in html
    assert not PulseAnswer.objects.exists()


def test_signing_is_not_offered_to_a_side_of_several(world: World, client: HttpClient) -> None:
    staff_engagement(world)
    open_round(world)
    client.force_login(world.member.user)
    assert 'name="signed"' not in client.get(url(world)).content.decode()


def test_someone_not_asked_sees_the_page_without_a_form(world: World, client: HttpClient):
    open_round(world)
    client.force_login(world.finance.user)
    response = client.get(url(world))
    assert response.status_code == 200 and 'type="radio"' not in response.content.decode()
    assert client.post(url(world), VALID).status_code == 404


def test_my_rounds_lists_what_waits_for_my_answer(world: World, client: HttpClient) -> None:
    survey = open_round(world)
    client.force_login(world.client_contact.user)
    html = client.get("/w/provider/pulse/").content.decode()
    assert "Alpha migration" in html and "Nothing waits" not in html
    answer(world.client_contact, survey)
    html = client.get("/w/provider/pulse/").content.decode()
    assert "Nothing waits for your answer." in html and "Answered, still open" in html


def test_the_nav_links_to_the_pulse_only_when_a_round_waits(world: World, client: HttpClient):
    client.force_login(world.client_contact.user)
    assert 'href="/w/provider/pulse/"' not in client.get("/w/provider/pulse/").content.decode()
    survey = open_round(world)
    html = client.get(f"/w/provider/engagements/{world.engagement.pk}/").content.decode()
    assert 'href="/w/provider/pulse/"' in html and "1 round to answer" in html
    assert f'href="/w/provider/engagements/{world.engagement.pk}/pulse/"' in html  # subnav
    answer(world.client_contact, survey)
    assert 'href="/w/provider/pulse/"' not in client.get("/w/provider/pulse/").content.decode()


def test_the_nav_counts_are_one_query_and_the_selectors_figures(world: World) -> None:
    from confiance.core.context_processors import navigation_counts
    from confiance.core.models import Notice
    from confiance.pulse.selectors import rounds_waiting

    past_round(world, 20)
    open_round(world)
    people = (world.owner, world.finance, world.client_contact, world.other_client_contact)
    for membership in people:
        Notice.objects.create(workspace=membership.workspace, user=membership.user, kind="test")
        expected = (
            Notice.objects.filter(
                user=membership.user, workspace=membership.workspace, read_at__isnull=True
            ).count(),
            rounds_waiting(fetched_by=membership).count(),
        )
        with CaptureQueriesContext(connection) as ctx:
            assert navigation_counts(membership) == expected
        assert len(ctx.captured_queries) == 1
    assert navigation_counts(world.client_contact)[1] == 1


def test_the_owner_sets_the_cadence_on_the_settings_page(world: World, client: HttpClient):
    client.force_login(world.owner.user)
    assert client.post("/w/provider/pulse/settings/", {"cadence_days": "0"}).status_code == 400
    assert client.post("/w/provider/pulse/settings/", {"cadence_days": "21"}).status_code == 302
    assert PulseSettings.objects.get(workspace=world.workspace).cadence_days == 21
    client.force_login(world.member.user)
    assert client.get("/w/provider/pulse/settings/").status_code == 404


def _count_queries(client: HttpClient, world: World) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url(world)).status_code == 200
    return len(ctx.captured_queries)


def test_pulse_page_queries_do_not_grow_with_answers(world: World, client: HttpClient) -> None:
    staff_engagement(world)
    contacts = [world.client_contact, *add_client_contacts(world, 4)]
    rounds = [past_round(world, days) for days in (56, 42, 28, 14)]
    for m in contacts[:3]:
        answer(m, rounds[0], 3)
    current = open_round(world)
    answer(world.client_contact, current, 4)
    client.force_login(world.client_contact.user)
    client.get(url(world))  # warm-up: the first request of a session does one-off lookups
    before = _count_queries(client, world)
    for survey in rounds[1:]:
        for m in contacts:
            answer(m, survey, 5)
        answer(world.member, survey, 2)
        answer(world.owner, survey, 2)
    for m in contacts[1:]:
        answer(m, current, 2)
    assert PulseAnswer.objects.count() == 3 + 1 + 3 * 7 + 4
    assert _count_queries(client, world) == before


def test_services_reject_a_post_for_a_closed_round(world: World, client: HttpClient) -> None:
    survey = past_round(world)
    assert not survey.is_open()
    client.force_login(world.client_contact.user)
    assert client.post(url(world), VALID).status_code == 404  # no open round to answer
    assert services.cadence_days(world.workspace) == 14


def test_the_pulse_page_speaks_french(world: World, client: HttpClient) -> None:
    open_round(world)
    client.force_login(world.client_contact.user)
    with translation.override("en"):  # the middleware's "fr" must not outlive this test
        html = client.get(url(world), headers={"accept-language": "fr"}).content.decode()
    assert "Baromètre" in html and "Langage commun" in html and "Envoyer ma réponse" in html
