"""'Propose a meeting' as a real next step: the alert opens the follow-up's meeting form
pre-filled, the meeting is planned through the follow-up (both sides get the notice and the
invitation) and the alert keeps the step taken."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from confiance.core.models import AuditEvent, Notice
from confiance.engagements.selectors import engagement_people
from confiance.followup.models import Meeting
from confiance.trust.actions import review_meeting_start, trust_alert_meeting_plan
from confiance.trust.models import TrustAlert
from tests.conftest import World
from tests.trust.support import an_alert

pytestmark = pytest.mark.django_db


def _url(world: World, alert_id: int) -> str:
    return reverse(
        "trust-alert-meeting",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "alert_id": alert_id},
    )


def test_the_review_meeting_is_proposed_three_working_days_ahead() -> None:
    friday = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
    start = timezone.localtime(review_meeting_start(friday))
    assert start.date().isoformat() == "2026-03-11" and start.hour == 10  # Wednesday, 10:00


def test_planning_the_step_tells_both_sides_and_is_kept_on_the_alert(
    world: World, django_capture_on_commit_callbacks
) -> None:
    pk = an_alert(world)
    people = list(engagement_people(engagement=world.engagement))
    assert world.client_contact.user in people and world.member.user in people
    with django_capture_on_commit_callbacks(execute=True):
        meeting = trust_alert_meeting_plan(
            membership=world.member,
            alert_id=pk,
            title="Review meeting",
            starts_at=review_meeting_start(),
            duration_minutes=60,
            channel="video",
            attendees=people,
        )
    alert = TrustAlert.objects.get(pk=pk)
    assert alert.step_meeting == meeting and alert.step_taken_by == world.member.user
    assert alert.closed_at is None, "taking the step does not close the alert: its cause going does"
    assert Meeting.objects.filter(engagement=world.engagement).count() == 1
    # The follow-up's own notice and invitation reach the client's people too.
    told = set(Notice.objects.filter(kind="meeting.planned").values_list("user_id", flat=True))
    assert world.client_contact.user.pk in told
    to_client = [m for m in mail.outbox if world.client_contact.user.email in m.to]
    assert to_client and any(
        mimetype.startswith("text/calendar")
        for message in to_client
        for _name, _content, mimetype in message.attachments
    )
    assert AuditEvent.objects.filter(verb="trust.alert.step").exists()


def test_only_the_providers_people_take_the_step_on_an_open_alert(world: World) -> None:
    pk = an_alert(world)
    kwargs = {
        "alert_id": pk,
        "title": "Review meeting",
        "starts_at": review_meeting_start(),
        "duration_minutes": 60,
        "channel": "video",
        "attendees": [world.member.user],
    }
    for persona in ("client_contact", "finance", "outsider"):
        with pytest.raises(PermissionDenied):
            trust_alert_meeting_plan(membership=getattr(world, persona), **kwargs)
    TrustAlert.objects.filter(pk=pk).update(closed_at=timezone.now(), outcome="cause_gone")
    with pytest.raises(ValidationError):
        trust_alert_meeting_plan(membership=world.member, **kwargs)
    assert not Meeting.objects.exists()


def test_the_form_is_prefilled_and_the_trust_page_shows_the_step(world: World, login) -> None:
    pk = an_alert(world)
    http = login("member")
    trust_url = reverse("trust", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    assert _url(world, pk) in http.get(trust_url).content.decode()
    page = http.get(_url(world, pk)).content.decode()
    assert 'value="Review meeting"' in page
    assert review_meeting_start().strftime("%Y-%m-%dT10:00") in page
    for person in engagement_people(engagement=world.engagement):
        assert re.search(rf'<input[^>]*value="{person.pk}"[^>]*checked', page), person
    # Bad input: field errors, nothing planned.
    bad = http.post(_url(world, pk), {"meeting-title": ""})
    assert bad.status_code == 400 and not Meeting.objects.exists()
    response = http.post(
        _url(world, pk),
        {
            "meeting-title": "Review meeting",
            "meeting-starts_at": review_meeting_start().strftime("%Y-%m-%dT%H:%M"),
            "meeting-duration_minutes": 60,
            "meeting-channel": "video",
            "meeting-location": "",
            "meeting-attendees": [world.member.user.pk, world.client_contact.user.pk],
        },
    )
    assert response.status_code == 302
    shown = http.get(trust_url).content.decode()
    assert 'data-testid="alert-step"' in shown and "Review meeting" in shown
    assert login("client_contact").get(_url(world, pk)).status_code == 404


def test_the_form_speaks_french(world: World, login) -> None:
    pk = an_alert(world)
    http = login("member")
    http.post(reverse("set_language"), {"language": "fr", "next": "/"})
    page = http.get(_url(world, pk)).content.decode()
    assert 'value="Réunion de mise au point"' in page and "Proposer une réunion" in page
