"""An ended engagement (closed, or stopped early) is read, not planned: its pages offer no form
to add an objective, an interlocutor, a commitment or a meeting, and the services refuse them
with the way out (reopen it, with the reason); what follows an end stays (payments)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from confiance.engagements import services as engagements
from confiance.engagements.models import EngagementStatus
from confiance.followup import services as followup
from tests.conftest import World


def _url(world: World, name: str) -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})


def _end(world: World, status: str) -> None:
    world.engagement.status = status
    world.engagement.save(update_fields=["status"])


@pytest.mark.parametrize("status", [EngagementStatus.CLOSED, EngagementStatus.STOPPED_EARLY])
def test_an_ended_engagement_offers_no_planning_form(world: World, login, status: str) -> None:
    _end(world, status)
    detail = login("owner").get(_url(world, "engagement-detail")).content.decode()
    for name in ("objective-add", "interlocutor-add"):
        assert _url(world, name) not in detail, name
    page = login("owner").get(_url(world, "followup")).content.decode()
    for name in ("commitment-create", "meeting-create"):
        assert _url(world, name) not in page, name
    assert 'data-testid="ended"' in page
    assert _url(world, "payment-create") in page, "the invoice after the end is still issued"
    client_page = login("client_contact").get(_url(world, "followup")).content.decode()
    assert _url(world, "commitment-create") not in client_page


@pytest.mark.parametrize("status", [EngagementStatus.CLOSED, EngagementStatus.STOPPED_EARLY])
def test_an_ended_engagement_refuses_new_plans_and_says_how(world: World, status: str) -> None:
    _end(world, status)
    attempts = [
        lambda: engagements.objective_add(
            membership=world.owner,
            engagement=world.engagement,
            text="Another goal",
            success_measure="Measured",
        ),
        lambda: engagements.interlocutor_set(
            membership=world.owner, engagement=world.engagement, user=world.member.user
        ),
        lambda: followup.commitment_create(
            membership=world.member,
            engagement=world.engagement,
            side="provider",
            owner=world.member.user,
            text="Something more",
            due_date=timezone.localdate() + timedelta(days=3),
        ),
        lambda: followup.meeting_create(
            membership=world.member,
            engagement=world.engagement,
            title="One more meeting",
            starts_at=timezone.now() + timedelta(days=2),
            duration_minutes=60,
            channel="video",
            attendees=[world.member.user, world.client_contact.user],
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="Reopen it first"):
            attempt()
    assert not world.engagement.objectives.exists()
    assert not world.engagement.commitments.exists()


def test_a_form_sent_to_an_ended_engagement_gets_the_reason_and_reopening_lifts_it(
    world: World, login
) -> None:
    _end(world, EngagementStatus.CLOSED)
    http = login("member")
    due = (timezone.localdate() + timedelta(days=3)).isoformat()
    sent = {
        "commitment-side": "provider",
        "commitment-owner": world.member.user.pk,
        "commitment-text": "Late addition",
        "commitment-due_date": due,
    }
    response = http.post(_url(world, "commitment-create"), sent)
    assert response.status_code == 400
    assert "This engagement has ended (Closed)" in response.content.decode()
    engagements.engagement_set_status(
        membership=world.owner,
        engagement=world.engagement,
        status=EngagementStatus.ACTIVE,
        reason="One more batch agreed",
    )
    page = http.get(_url(world, "followup")).content.decode()
    assert _url(world, "commitment-create") in page and 'data-testid="ended"' not in page
    assert http.post(_url(world, "commitment-create"), sent).status_code == 302


def test_an_ended_engagement_s_common_language_is_read_not_proposed(world: World, login) -> None:
    from confiance.alignment import services as alignment

    _end(world, EngagementStatus.STOPPED_EARLY)
    page = login("member").get(_url(world, "common-ground")).content.decode()
    for name in ("glossary-propose", "vision-propose"):
        assert _url(world, name) not in page, name
    with pytest.raises(ValidationError, match="Reopen it first"):
        alignment.glossary_propose(
            membership=world.member, engagement=world.engagement, term="Lot", meaning="A batch"
        )
    with pytest.raises(ValidationError, match="Reopen it first"):
        alignment.vision_propose(
            membership=world.client_contact,
            engagement=world.engagement,
            problem="P",
            outcome="O",
            success="S",
        )


def test_an_ended_engagement_s_import_page_says_why_instead_of_asking_for_a_file(
    world: World, login
) -> None:
    _end(world, EngagementStatus.CLOSED)
    page = login("owner").get(_url(world, "import-upload")).content.decode()
    assert 'type="file"' not in page and "Check the file" not in page
    assert "Time is logged on active or paused engagements only (this one is Closed)." in page
