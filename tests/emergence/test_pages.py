"""Pages of emergence: what each side sees, forms that refuse bad input, constant queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from confiance.emergence import services
from confiance.emergence.models import Opportunity, Post
from tests.conftest import World
from tests.emergence.support import open_opportunity, with_people

pytestmark = pytest.mark.django_db


def detail_url(world: World, opportunity: Opportunity) -> str:
    return reverse("opportunity-detail", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk})


def test_expert_and_client_see_the_need_and_people_but_nothing_internal(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_people(world)
    for persona in ("expert", "client_contact"):
        page = login(persona).get(detail_url(world, opportunity)).content.decode()
        assert "Reports take a week to produce." in page
        assert "Eve Expert" in page and "Carla Contact" in page
        assert "Contact origin" not in page and "Who may see it" not in page
        assert "Move to another phase" not in page
    owner_page = login("owner").get(detail_url(world, opportunity)).content.decode()
    assert "Contact origin" in owner_page and "Move to another phase" in owner_page


def test_an_expert_lands_on_their_opportunities_not_on_engagements(world, login) -> None:  # type: ignore[no-untyped-def]
    with_people(world)
    http = login("expert")
    response = http.get(reverse("workspace-home", kwargs={"ws": world.workspace.slug}))
    assert response["Location"].endswith("/opportunities/")
    page = http.get(response["Location"]).content.decode()
    assert "Data platform for Client A" in page
    assert ">Engagements<" not in page  # no dead end in the navigation


def test_the_invited_person_joins_or_declines_from_the_page(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = open_opportunity(world)
    services.opportunity_invite(
        membership=world.owner, opportunity=opportunity, email=world.expert.user.email
    )
    http = login("expert")
    assert "You are invited" in http.get(detail_url(world, opportunity)).content.decode()
    url = reverse(
        "opportunity-participation",
        kwargs={"ws": world.workspace.slug, "pk": opportunity.pk, "action": "decline"},
    )
    assert http.post(url).status_code == 302
    assert http.get(detail_url(world, opportunity)).status_code == 404


def test_bad_input_gets_field_errors_and_keeps_what_was_typed(world, login) -> None:  # type: ignore[no-untyped-def]
    http = login("member")
    response = http.post(
        reverse("opportunity-open", kwargs={"ws": world.workspace.slug}),
        {"title": "Half-typed need", "client_problem": "", "contact_origin": "emergence"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Half-typed need" in page
    assert "Describe the client" in page or "This field is required" in page
    assert "Choose a client, or name a new one." in page or "client" in page


def test_posting_from_the_page_renders_sanitised_markdown(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_people(world)
    http = login("expert")
    url = reverse(
        "opportunity-discussion", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk}
    )
    response = http.post(url, {"body": "**Bold idea** <img src=x onerror=alert(1)>"})
    assert response.status_code == 302
    page = http.get(url).content.decode()
    assert "<strong>Bold idea</strong>" in page
    assert "<img" not in page.split('class="thread"', 1)[1]


def test_an_attachment_is_a_download_for_participants_only(world, login) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    opportunity = with_people(world)
    post = services.post_create(
        membership=world.expert,
        opportunity=opportunity,
        body="Plan",
        attachment=SimpleUploadedFile("plan.pdf", b"%PDF-1.4 plan"),
    )
    url = reverse(
        "attachment-download",
        kwargs={
            "ws": world.workspace.slug,
            "pk": opportunity.pk,
            "attachment_id": post.attachments.get().pk,
        },
    )
    response = login("client_contact").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 plan"
    assert login("other_client_contact").get(url).status_code == 404


def _queries(http, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_the_discussion_page_runs_a_constant_number_of_queries(world, login) -> None:  # type: ignore[no-untyped-def]
    opportunity = with_people(world)
    http = login("client_contact")
    url = reverse(
        "opportunity-discussion", kwargs={"ws": world.workspace.slug, "pk": opportunity.pk}
    )
    services.post_create(membership=world.expert, opportunity=opportunity, body="One")
    few = _queries(http, url)
    root = Post.objects.first()
    authors = [world.owner.user, world.expert.user, world.client_contact.user]
    Post.objects.bulk_create(
        Post(
            workspace_id=opportunity.workspace_id,
            opportunity=opportunity,
            author=authors[i % 3],
            parent=root if i % 2 else None,
            body=f"Message {i}",
            body_html=f"<p>Message {i}</p>",
        )
        for i in range(1000)
    )
    assert _queries(http, url) == few  # 1,001 posts, as many queries as for one
