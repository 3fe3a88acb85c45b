"""The access policy as people meet it: what each role sees on the engagement pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confiance.engagements.models import Engagement, EngagementStatus
from confiance.engagements.services import engagement_create
from tests.conftest import World


def test_client_never_sees_internal_notes(login, world: World) -> None:
    url = f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/"
    client_page = login("client_contact").get(url)
    assert client_page.status_code == 200
    assert world.engagement.summary.encode() in client_page.content
    assert b"INTERNAL-NOTE" not in client_page.content
    member_page = login("member").get(url)
    assert b"INTERNAL-NOTE" in member_page.content


def test_client_sees_neither_drafts_nor_other_clients(login, world: World) -> None:
    page = login("client_contact").get(f"/w/{world.workspace.slug}/engagements/")
    assert world.engagement.title.encode() in page.content
    assert world.draft.title.encode() not in page.content
    assert world.engagement_b.title.encode() not in page.content
    draft = login("client_contact").get(f"/w/{world.workspace.slug}/engagements/{world.draft.pk}/")
    assert draft.status_code == 404


def test_expert_sees_no_engagement(login, world: World) -> None:
    page = login("expert").get(f"/w/{world.workspace.slug}/engagements/")
    assert page.status_code == 200
    assert world.engagement.title.encode() not in page.content


def test_outsider_cannot_reach_the_workspace_by_guessing_ids(login, world: World) -> None:
    http = login("outsider")
    assert http.get(f"/w/{world.workspace.slug}/engagements/").status_code == 404
    # Their own workspace slug with our engagement's id is not found either.
    url = f"/w/{world.other_workspace.slug}/engagements/{world.engagement.pk}/"
    assert http.get(url).status_code == 404


def test_htmx_filter_returns_only_the_table(login, world: World) -> None:
    http = login("member")
    response = http.get(
        f"/w/{world.workspace.slug}/engagements/?status=draft", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert world.draft.title.encode() in response.content
    assert world.engagement.title.encode() not in response.content


def test_member_creates_an_engagement_and_field_errors_keep_the_input(login, world: World):
    http = login("member")
    url = f"/w/{world.workspace.slug}/engagements/new/"
    bad = http.post(url, {"title": "Keep me", "client": world.client_a.pk, "status": "active"})
    assert bad.status_code == 400
    assert "contact_origin" in bad.context["form"].errors
    assert b'value="Keep me"' in bad.content
    good = http.post(
        url,
        {
            "title": "Keep me",
            "client": world.client_a.pk,
            "status": "active",
            "contact_origin": "tender",
            "start_date": "2026-12-01",
            "end_date": "2026-11-01",
        },
    )
    assert good.status_code == 400 and "end_date" in good.context["form"].errors
    assert not Engagement.objects.filter(title="Keep me").exists()


def _add_engagements(world: World, n: int) -> None:
    for i in range(n):
        engagement_create(
            membership=world.owner,
            client=world.client_a if i % 2 else world.client_b,
            title=f"Bulk {i}",
            status=EngagementStatus.ACTIVE,
            contact_origin="tender",
            lead=world.member.user,
        )


@pytest.mark.parametrize("persona", ["member", "client_contact"])
def test_engagement_list_query_count_does_not_grow(login, world: World, persona: str) -> None:
    http = login(persona)
    url = f"/w/{world.workspace.slug}/engagements/"
    http.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        assert http.get(url).status_code == 200
    _add_engagements(world, 80)
    with CaptureQueriesContext(connection) as many:
        response = http.get(url)
        assert response.status_code == 200
    assert b"Bulk" in response.content
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_engagement_detail_and_api_list_query_counts_do_not_grow(login, world: World) -> None:
    from django.test import Client as HttpClient

    from confiance.core.services import api_token_create

    _, token = api_token_create(membership=world.member, name="t")
    api = HttpClient(headers={"Authorization": f"Bearer {token}"})
    api.get("/api/v1/engagements")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v1/engagements")
    _add_engagements(world, 40)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/engagements?page_size=100").json()["results"]) == 43
    assert len(many) == len(few)


def test_the_one_engagement_check_agrees_with_the_scoped_queryset(world: World) -> None:
    """Selectors re-check a loaded engagement in Python: the same answer as the SQL scope."""
    from confiance import access
    from tests.conftest import PERSONAS

    engagements = [world.engagement, world.draft, world.engagement_b, world.foreign_engagement]
    for persona in PERSONAS:
        membership = getattr(world, persona)
        visible = set(Engagement.objects.visible_to(membership).values_list("pk", flat=True))
        for engagement in engagements:
            assert access.sees_engagement(membership, engagement) == (engagement.pk in visible), (
                persona,
                engagement.title,
            )
