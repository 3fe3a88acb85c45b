"""Problem pages: who sees what, forms that keep input, actions per role, query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from confiance.problems import services
from confiance.problems.models import Problem, ProblemStatus
from tests.conftest import World
from tests.problems.support import a_problem, problem_kwargs


def detail_url(world: World) -> str:
    return reverse("problem-detail", kwargs=problem_kwargs(world))


def action_url(world: World, action: str) -> str:
    return reverse("problem-action", kwargs={**problem_kwargs(world), "action": action})


@pytest.mark.parametrize("persona", ["other_client_contact", "expert", "outsider"])
def test_out_of_reach_problem_is_not_found(world: World, login, persona: str) -> None:  # type: ignore[no-untyped-def]
    url = detail_url(world)
    http = login(persona)
    assert http.get(url).status_code == 404
    list_url = reverse(
        "problem-list", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}
    )
    assert http.get(list_url).status_code == 404


def test_problem_of_another_engagement_is_not_found_through_this_one(world: World, login) -> None:  # type: ignore[no-untyped-def]
    other = services.problem_raise(
        membership=world.other_client_contact,
        engagement=world.engagement_b,
        title="Beta issue",
        severity="low",
    )
    url = reverse(
        "problem-detail",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "problem_id": other.pk},
    )
    assert login("client_contact").get(url).status_code == 404


def test_internal_comments_are_never_shown_to_the_client(world: World, login) -> None:  # type: ignore[no-untyped-def]
    problem = Problem.objects.get(pk=a_problem(world))
    services.problem_comment_add(
        membership=world.member, problem=problem, text="SECRET-COMMENT about penalties"
    )
    assert "SECRET-COMMENT" in login("member").get(detail_url(world)).content.decode()
    page = login("client_contact").get(detail_url(world)).content.decode()
    assert "SECRET-COMMENT" not in page
    assert "Internal comments" not in page
    response = login("client_contact").post(action_url(world, "comment"), {"comment-text": "x"})
    assert response.status_code == 404


def test_client_raises_with_priority_and_sees_no_lessons_panel(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("client_contact")
    url = reverse("problem-raise", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    page = http.get(url).content.decode()
    assert "Your priority" in page and "similar-lessons" not in page
    response = http.post(
        url, {"title": "Invoices wrong", "severity": "medium", "client_priority": "critical"}
    )
    problem = Problem.objects.get(title="Invoices wrong")
    assert response.status_code == 302
    assert problem.client_priority == "critical" and not problem.proactive


def test_member_raise_form_fetches_similar_lessons(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    url = reverse("problem-raise", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    page = http.get(url).content.decode()
    assert 'id="similar-lessons"' in page
    assert reverse("lesson-similar", kwargs={"ws": world.workspace.slug}) in page
    assert "Your priority" not in page


def test_invalid_raise_keeps_input_and_answers_400(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    url = reverse("problem-raise", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    response = http.post(url, {"title": "", "description": "KEEP-ME", "severity": "high"})
    assert response.status_code == 400
    assert "KEEP-ME" in response.content.decode()


def test_actions_per_role(world: World, login) -> None:  # type: ignore[no-untyped-def]
    a_problem(world)
    client_page = login("client_contact").get(detail_url(world)).content.decode()
    assert action_url(world, "acknowledge") not in client_page
    assert action_url(world, "priority") in client_page
    member_page = login("member").get(detail_url(world)).content.decode()
    assert action_url(world, "acknowledge") in member_page
    assert action_url(world, "confirm") not in member_page
    # A client cannot acknowledge, a member cannot confirm: not found.
    assert login("client_contact").post(action_url(world, "acknowledge")).status_code == 404
    assert login("member").post(action_url(world, "confirm")).status_code == 404
    assert login("member").post(action_url(world, "nonsense")).status_code == 404


def test_journey_through_the_action_urls(world: World, login) -> None:  # type: ignore[no-untyped-def]
    problem_id = a_problem(world)
    member = login("member")
    assert member.post(action_url(world, "acknowledge")).status_code == 302
    response = member.post(action_url(world, "owner"), {"owner-owner": world.member.user.pk})
    assert response.status_code == 302
    response = member.post(
        action_url(world, "escalate"), {"escalate-level": 1, "escalate-person": world.owner.user.pk}
    )
    assert response.status_code == 302
    assert member.post(action_url(world, "update"), {"update-text": "Patched"}).status_code == 302
    assert member.post(action_url(world, "resolve"), {"resolve-text": ""}).status_code == 302
    page = member.get(detail_url(world)).content.decode()
    assert "early, before any target was missed" in page
    client = login("client_contact")
    assert client.post(action_url(world, "confirm")).status_code == 302
    assert Problem.objects.get(pk=problem_id).status == ProblemStatus.CLOSED


def test_invalid_action_shows_the_error_with_400(world: World, login) -> None:  # type: ignore[no-untyped-def]
    a_problem(world)
    response = login("member").post(action_url(world, "update"), {"update-text": ""})
    assert response.status_code == 400
    response = login("member").post(action_url(world, "acknowledge"))
    assert response.status_code == 302
    response = login("member").post(action_url(world, "acknowledge"))
    assert response.status_code == 400
    assert "already acknowledged" in response.content.decode()


def test_time_since_last_update_is_shown(world: World, login) -> None:  # type: ignore[no-untyped-def]
    problem = Problem.objects.get(pk=a_problem(world))
    services.problem_update_post(membership=world.member, problem=problem, text="Looking")
    page = login("client_contact").get(detail_url(world)).content.decode()
    assert 'data-testid="since-update"' in page


def test_settings_page_saves_targets_in_hours(world: World, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("problem-settings", kwargs={"ws": world.workspace.slug})
    http = login("owner")
    assert "48" in http.get(url).content.decode()
    response = http.post(
        url,
        {
            "acknowledge_hours": "2",
            "owner_hours": "6",
            "update_hours": "24",
            "level1": world.member.user.pk,
        },
    )
    assert response.status_code == 302
    settings = services.problem_settings_for(world.workspace)
    assert (settings.acknowledge_minutes, settings.owner_minutes, settings.update_minutes) == (
        120,
        360,
        1440,
    )
    assert settings.level1 == world.member.user
    assert http.post(url, {"acknowledge_hours": "0"}).status_code == 400


def _list_queries(world: World, http) -> int:  # type: ignore[no-untyped-def]
    url = reverse("problem-list", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_problem_list_query_count_does_not_grow(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")

    def add(n: int) -> None:
        for i in range(n):
            problem = services.problem_raise(
                membership=world.client_contact,
                engagement=world.engagement,
                title=f"Problem {i}",
                severity="low",
            )
            services.problem_owner_name(
                membership=world.member, problem=problem, owner=world.member.user
            )
            services.problem_update_post(membership=world.member, problem=problem, text="x")

    add(2)
    few = _list_queries(world, http)
    add(15)
    assert _list_queries(world, http) == few


def test_problem_page_speaks_french(world: World, login) -> None:  # type: ignore[no-untyped-def]
    problem = Problem.objects.get(pk=a_problem(world))
    services.problem_escalate(
        membership=world.member, problem=problem, level=1, person=world.owner.user
    )
    http = login("member")
    page = http.get(detail_url(world), headers={"accept-language": "fr"}).content.decode()
    assert "Chronologie" in page and "tôt, avant tout délai manqué" in page
