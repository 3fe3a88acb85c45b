"""Meetings and visits: attendees of both sides, attendance, cancellation with its notice,
internal notes kept from the client, and the per-person iCalendar feed (parsed by icalendar)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from confiance.followup import services
from confiance.followup.models import Meeting, MeetingAttendee
from confiance.ledger.models import LedgerEntry
from confiance.ledger.selectors import opened_fact
from tests.conftest import World


def plan(world: World, *, starts_at=None, attendees=None, title="Steering committee", by="member"):
    return services.meeting_create(
        membership=getattr(world, by),
        engagement=world.engagement,
        title=title,
        starts_at=starts_at or timezone.now() + timedelta(days=2),
        duration_minutes=90,
        channel="video",
        attendees=attendees or [world.member.user, world.client_contact.user],
    )


def test_attendees_come_from_both_sides_of_this_engagement(world: World):
    meeting = plan(world)
    assert dict(meeting.attendees.values_list("user__email", "side")) == {
        world.member.user.email: "provider",
        world.client_contact.user.email: "client",
    }
    for stranger in ("other_client_contact", "expert"):
        with pytest.raises(ValidationError):
            plan(world, attendees=[world.member.user, getattr(world, stranger).user])


def test_only_the_provider_plans_meetings(world: World):
    for persona in ("client_contact", "finance", "expert", "other_client_contact"):
        with pytest.raises(PermissionDenied):
            plan(world, by=persona)


def test_cancellation_records_the_side_and_the_notice_in_hours(world: World):
    starts = timezone.now() + timedelta(hours=5)
    meeting = plan(world, starts_at=starts)
    services.meeting_cancel(membership=world.client_contact, meeting=meeting, reason="Sick")
    meeting.refresh_from_db()
    assert meeting.status == "cancelled" and meeting.cancelled_by_side == "client"
    assert meeting.cancelled_by == world.client_contact.user
    assert 4.9 <= meeting.cancellation_notice_hours <= 5.0
    leaf = json.loads(LedgerEntry.objects.filter(kind="meeting.cancel").get().data)
    assert leaf["side"] == "client" and 294 <= leaf["notice_minutes"] <= 300
    with pytest.raises(ValidationError):
        services.meeting_cancel(membership=world.member, meeting=meeting)
    with pytest.raises(PermissionDenied):
        services.meeting_cancel(membership=world.other_client_contact, meeting=plan(world))


def test_attendance_is_recorded_once_the_meeting_started(world: World):
    future = plan(world)
    with pytest.raises(ValidationError):
        services.meeting_record(
            membership=world.member, meeting=future, attendance={}, minutes="", internal_notes=""
        )
    past = plan(world, starts_at=timezone.now() - timedelta(hours=2))
    services.meeting_record(
        membership=world.member,
        meeting=past,
        attendance={world.member.user.pk: "present", world.client_contact.user.pk: "excused"},
        minutes="Decisions: go",
        internal_notes="SECRET-MEETING-NOTE",
    )
    past.refresh_from_db()
    assert past.status == "held" and past.held_recorded_by == world.member.user
    assert dict(past.attendees.values_list("user_id", "attendance")) == {
        world.member.user.pk: "present",
        world.client_contact.user.pk: "excused",
    }
    attendee = MeetingAttendee.objects.get(meeting=past, user=world.client_contact.user)
    assert attendee.recorded_by == world.member.user and attendee.recorded_at is not None
    entry = LedgerEntry.objects.get(kind="meeting.attendance")
    assert "excused" in json.dumps(opened_fact(entry)) and "SECRET-MEETING-NOTE" not in entry.data
    with pytest.raises(ValidationError):  # only the people expected
        services.meeting_record(
            membership=world.member,
            meeting=past,
            attendance={world.finance.user.pk: "present"},
            minutes="",
            internal_notes="",
        )


def test_client_sees_minutes_but_never_internal_notes(world: World, client):
    meeting = plan(world, starts_at=timezone.now() - timedelta(hours=1))
    services.meeting_record(
        membership=world.member,
        meeting=meeting,
        attendance={},
        minutes="SHARED-MINUTES",
        internal_notes="SECRET-MEETING-NOTE",
    )
    kw = {"ws": world.workspace.slug, "pk": world.engagement.pk}
    urls = [
        reverse("followup", kwargs=kw),
        reverse("meeting-detail", kwargs={**kw, "mid": meeting.pk}),
    ]
    client.force_login(world.client_contact.user)
    for url in urls:
        page = client.get(url).content.decode()
        assert "Steering committee" in page and "SECRET-MEETING-NOTE" not in page
    assert "SHARED-MINUTES" in client.get(urls[1]).content.decode()
    client.force_login(world.member.user)
    assert "SECRET-MEETING-NOTE" in client.get(urls[1]).content.decode()
    for persona in ("expert", "other_client_contact", "outsider"):
        client.force_login(getattr(world, persona).user)
        assert client.get(urls[1]).status_code == 404


def test_meeting_pages_record_attendance_and_cancel(world: World, client):
    meeting = plan(world, starts_at=timezone.now() - timedelta(hours=1))
    url = reverse(
        "meeting-detail",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "mid": meeting.pk},
    )
    client.force_login(world.member.user)
    response = client.post(
        url,
        {
            f"record-attendance_{world.client_contact.user.pk}": "absent",
            "record-minutes": "Short",
            "held": "1",
        },
    )
    assert response.status_code == 302
    assert MeetingAttendee.objects.get(user=world.client_contact.user).attendance == "absent"
    client.force_login(world.client_contact.user)
    assert client.post(url, {"record-minutes": "x"}).status_code == 404
    other = plan(world)
    cancel = reverse(
        "meeting-cancel",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "mid": other.pk},
    )
    assert client.post(cancel, {"cancel-reason": "Holiday"}).status_code == 302
    assert Meeting.objects.get(pk=other.pk).cancelled_by_side == "client"


def test_meeting_form_errors_keep_input(world: World, client):
    client.force_login(world.member.user)
    url = reverse("meeting-create", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    response = client.post(url, {"meeting-title": "Kick-off workshop", "meeting-channel": "video"})
    assert response.status_code == 400
    assert "Kick-off workshop" in response.content.decode()
    response = client.post(
        url,
        {
            "meeting-title": "Kick-off workshop",
            "meeting-channel": "on_site",
            "meeting-starts_at": "2026-12-01T09:30",
            "meeting-duration_minutes": "120",
            "meeting-attendees": [world.member.user.pk, world.client_contact.user.pk],
        },
    )
    assert response.status_code == 302
    assert Meeting.objects.get().duration_minutes == 120


def test_meeting_form_expects_everyone_of_the_engagement_by_default(world: World, client):
    """Both sides' people start ticked, the person planning it included; unticking is a choice."""
    import re

    from confiance.engagements.selectors import engagement_people

    client.force_login(world.member.user)
    url = reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    page = client.get(url).content.decode()
    boxes = re.findall(r"<input[^>]*name=\"meeting-attendees\"[^>]*>", page)
    ticked = {int(re.search(r'value="(\d+)"', box)[1]) for box in boxes if " checked" in box}
    people = set(engagement_people(engagement=world.engagement).values_list("pk", flat=True))
    assert len(boxes) == len(people) >= 2
    assert ticked == people
    assert {world.member.user.pk, world.client_contact.user.pk} <= ticked


# iCalendar feed ----------------------------------------------------------------------------


def feed_url(world: World, persona: str) -> str:
    token = services.calendar_feed_regenerate(user=getattr(world, persona).user)
    return reverse("calendar-feed", kwargs={"token": token})


def events(response) -> dict[str, object]:
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e.get("summary")): e for e in calendar.walk("VEVENT")}


def test_feed_lists_the_meetings_the_person_is_expected_at_in_utc(world: World):
    paris = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.get_fixed_timezone(60))
    expected = plan(world, starts_at=paris, title="Steering committee")
    plan(world, title="Team only", attendees=[world.member.user])
    cancelled = plan(world, title="Called off")
    services.meeting_cancel(membership=world.member, meeting=cancelled)
    services.meeting_record(
        membership=world.member,
        meeting=plan(world, starts_at=timezone.now() - timedelta(hours=1), title="Held one"),
        attendance={},
        minutes="",
        internal_notes="SECRET-MEETING-NOTE",
    )
    url = feed_url(world, "client_contact")
    response = HttpClient().get(url)  # no session: the token is the key
    assert response.status_code == 200
    assert b"SECRET-MEETING-NOTE" not in response.content
    found = events(response)
    assert set(found) == {
        "Steering committee — Alpha migration",
        "Called off — Alpha migration",
        "Held one — Alpha migration",
    }
    event = found["Steering committee — Alpha migration"]
    start = event.decoded("dtstart")
    assert start == datetime(2026, 12, 3, 9, 0, tzinfo=UTC) and start.utcoffset() == timedelta(0)
    assert event.decoded("dtend") - start == timedelta(minutes=90)
    assert str(event.get("status")) == "CONFIRMED"
    assert str(found["Called off — Alpha migration"].get("status")) == "CANCELLED"
    assert f"meeting-{expected.pk}@" in str(event.get("uid"))
    assert "DTSTART:20261203T090000Z" in response.content.decode()


def test_feed_spans_workspaces_and_stops_at_what_the_person_may_see(world: World):
    plan(world, title="Visible")
    on_draft = {
        "membership": world.member,
        "engagement": world.draft,
        "title": "On a draft",
        "starts_at": timezone.now() + timedelta(days=1),
        "duration_minutes": 30,
        "channel": "phone",
    }
    # A draft is the provider's alone: its client's contacts, who may not see it, are not
    # among its people and cannot be expected at its meetings.
    with pytest.raises(ValidationError, match="does not take part"):
        services.meeting_create(
            **on_draft, attendees=[world.member.user, world.client_contact.user]
        )
    draft_meeting = services.meeting_create(**on_draft, attendees=[world.member.user])
    assert draft_meeting.pk
    client_titles = set(events(HttpClient().get(feed_url(world, "client_contact"))))
    assert client_titles == {"Visible — Alpha migration"}  # clients never see drafts
    member_titles = set(events(HttpClient().get(feed_url(world, "member"))))
    assert member_titles == {"Visible — Alpha migration", "On a draft — Alpha draft"}


def test_bad_or_regenerated_token_is_a_404(world: World):
    old = feed_url(world, "member")
    assert HttpClient().get(old).status_code == 200
    new = feed_url(world, "member")
    assert HttpClient().get(old).status_code == 404
    assert HttpClient().get(new).status_code == 200
    assert HttpClient().get("/calendar/nonsense.ics").status_code == 404
    world.member.user.is_active = False
    world.member.user.save(update_fields=["is_active"])
    assert HttpClient().get(new).status_code == 404


def test_feed_token_is_stored_hashed(world: World):
    from confiance.followup.models import CalendarFeed

    url = feed_url(world, "member")
    token = url.rsplit("/", 1)[-1].removesuffix(".ics")
    assert len(token) >= 40
    assert CalendarFeed.objects.get(user=world.member.user).token_hash != token


def test_my_calendar_page_shows_the_link_once(world: World, client):
    client.force_login(world.client_contact.user)
    url = reverse("my-calendar", kwargs={"ws": world.workspace.slug})
    assert "feed-url" not in client.get(url).content.decode()
    page = client.post(url).content.decode()
    assert 'data-testid="feed-url"' in page and ".ics" in page
    assert 'data-testid="feed-url"' not in client.get(url).content.decode()


def test_moving_a_meeting_is_kept_as_a_reschedule_with_its_notice(world: World, client):
    first = timezone.now() + timedelta(hours=10)
    meeting = plan(world, starts_at=first)
    services.meeting_record(
        membership=world.member,
        meeting=meeting,
        attendance={world.client_contact.user.pk: "excused"},
        minutes="",
        internal_notes="",
        held=False,
    )
    later = first + timedelta(days=1)
    services.meeting_update(
        membership=world.member,
        meeting=meeting,
        title="Steering committee",
        starts_at=later,
        duration_minutes=45,
        channel="phone",
        attendees=[world.client_contact.user, world.owner.user],
    )
    meeting.refresh_from_db()
    assert (meeting.starts_at, meeting.duration_minutes, meeting.channel) == (later, 45, "phone")
    reschedule = meeting.reschedules.get()
    assert (reschedule.from_starts_at, reschedule.to_starts_at) == (first, later)
    assert reschedule.changed_by == world.member.user and 9.9 <= reschedule.notice_hours <= 10
    assert dict(meeting.attendees.values_list("user_id", "attendance")) == {
        world.client_contact.user.pk: "excused",
        world.owner.user.pk: "",
    }
    leaf = json.loads(LedgerEntry.objects.get(kind="meeting.reschedule").data)
    assert 590 <= leaf["notice_minutes"] <= 600
    with pytest.raises(PermissionDenied):
        services.meeting_update(
            membership=world.client_contact,
            meeting=meeting,
            title="x",
            starts_at=later,
            duration_minutes=45,
            channel="phone",
            attendees=[world.client_contact.user],
        )
    client.force_login(world.client_contact.user)
    page = client.get(
        reverse(
            "meeting-detail",
            kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "mid": meeting.pk},
        )
    ).content.decode()
    assert "Moved from" in page


def test_meeting_edit_page_keeps_input_on_error(world: World, client):
    meeting = plan(world)
    url = reverse(
        "meeting-edit",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "mid": meeting.pk},
    )
    client.force_login(world.member.user)
    page = client.get(url).content.decode()
    assert "Steering committee" in page
    response = client.post(url, {"meeting-title": "Renamed committee", "meeting-channel": "chat"})
    assert response.status_code == 400 and "Renamed committee" in response.content.decode()
    services.meeting_cancel(membership=world.member, meeting=meeting)
    assert client.get(url).status_code == 404
