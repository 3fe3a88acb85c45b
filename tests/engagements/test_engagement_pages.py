"""The engagement page: problem statement, objectives, interlocutors, and stopping early."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confiance.engagements.models import EngagementStatus
from confiance.engagements.services import (
    engagement_set_status,
    interlocutor_set,
    objective_add,
)
from tests.conftest import World


def url(world: World, suffix: str = "") -> str:
    return f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/{suffix}"


def test_member_writes_the_problem_statement_and_the_client_reads_it(login, world: World):
    http = login("member")
    page = http.get(url(world, "edit/"))
    assert page.status_code == 200
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update(
        {
            "title": world.engagement.title,
            "contact_origin": "peer_referral",
            "referred_by": "Dr. Alice Martin",
            "client_problem": "Records are lost between services",
            "client_solution_idea": "A new software package",
            "provider_interpretation": "A process problem before a software one",
            "lead": "",
            "start_date": "2026-09-01",
            "end_date": "2026-12-31",
        }
    )
    assert http.post(url(world, "edit/"), data).status_code == 302
    client_page = login("client_contact").get(url(world))
    for text in (b"Records are lost", b"A new software package", b"A process problem", b"Alice"):
        assert text in client_page.content
    assert b"INTERNAL-NOTE" not in client_page.content
    assert b"Edit the engagement" not in client_page.content


def test_edit_keeps_the_input_on_error(login, world: World) -> None:
    http = login("member")
    response = http.post(
        url(world, "edit/"),
        {
            "title": "Still here",
            "contact_origin": "tender",
            "start_date": "2026-12-01",
            "end_date": "2026-01-01",
        },
    )
    assert response.status_code == 400
    assert b'value="Still here"' in response.content
    world.engagement.refresh_from_db()
    assert world.engagement.title == "Alpha migration"


def test_objectives_need_a_measure_of_attainment(login, world: World) -> None:
    http = login("member")
    bad = http.post(
        url(world, "objectives/"), {"text": "Migrate all records", "success_measure": ""}
    )
    assert bad.status_code == 400
    good = http.post(
        url(world, "objectives/"),
        {
            "text": "Migrate all records",
            "success_measure": "100 % of records readable in the new system",
        },
    )
    assert good.status_code == 302
    page = login("client_contact").get(url(world))
    assert b"Migrate all records" in page.content and b"100 % of records" in page.content


def test_interlocutors_come_from_the_provider_or_this_client(world: World) -> None:
    interlocutor_set(
        membership=world.owner,
        engagement=world.engagement,
        user=world.client_contact.user,
        role="CIO",
    )
    with pytest.raises(ValidationError):
        interlocutor_set(
            membership=world.owner,
            engagement=world.engagement,
            user=world.other_client_contact.user,
        )
    with pytest.raises(ValidationError):
        interlocutor_set(
            membership=world.owner, engagement=world.engagement, user=world.expert.user
        )
    assert world.engagement.interlocutors.get(user=world.client_contact.user).side == "client"


def test_stopping_early_needs_a_reason_and_shows_as_an_honest_outcome(login, world: World):
    http = login("member")
    refused = http.post(url(world, "status/"), {"status": "stopped_early", "reason": ""})
    assert refused.status_code == 400
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.ACTIVE
    done = http.post(
        url(world, "status/"), {"status": "stopped_early", "reason": "The data never came"}
    )
    assert done.status_code == 302
    world.engagement.refresh_from_db()
    assert world.engagement.stopped_by == world.member.user and world.engagement.stopped_at
    page = login("client_contact").get(url(world))
    assert b"The data never came" in page.content and b"Decided by Mark Member" in page.content


def test_detail_query_count_does_not_grow(login, world: World) -> None:
    http = login("member")
    http.get(url(world))
    with CaptureQueriesContext(connection) as few:
        http.get(url(world))
    for i in range(10):
        objective_add(
            membership=world.owner, engagement=world.engagement, text=f"O{i}", success_measure="m"
        )
    interlocutor_set(membership=world.owner, engagement=world.engagement, user=world.finance.user)
    interlocutor_set(
        membership=world.owner, engagement=world.engagement, user=world.client_contact.user
    )
    with CaptureQueriesContext(connection) as many:
        http.get(url(world))
    assert len(many) == len(few)


def test_status_change_is_audited(world: World) -> None:
    from confiance.core.models import AuditEvent

    engagement_set_status(membership=world.owner, engagement=world.engagement, status="paused")
    event = AuditEvent.objects.filter(verb="engagement.status").latest("id")
    assert event.data["from"] == "active" and event.data["to"] == "paused"
