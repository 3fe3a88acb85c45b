"""The iCalendar feed of the meetings a person is expected at (RFC 5545, via `icalendar`)."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from confiance.followup.models import Meeting, MeetingStatus

ICAL_STATUS = {
    MeetingStatus.PLANNED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def _uid(meeting: Meeting) -> str:
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "confiance"
    return f"meeting-{meeting.pk}@{host}"


def build_invitation(meeting: Meeting, *, method: str, sequence: int, base_url: str) -> bytes:
    """An iTIP message (RFC 5546) for one meeting: METHOD:REQUEST to invite or update (a higher
    SEQUENCE replaces the earlier version), METHOD:CANCEL to take it out of calendars."""
    engagement = meeting.engagement
    calendar = Calendar()
    calendar.add("prodid", "-//Confiance//Follow-up meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", _uid(meeting))
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", meeting.starts_at.astimezone(UTC))
    event.add("dtend", meeting.ends_at.astimezone(UTC))
    event.add("summary", f"{meeting.title} — {engagement.title}")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if meeting.location:
        event.add("location", meeting.location)
    organizer = vCalAddress(f"mailto:{meeting.created_by.email}")
    organizer.params["cn"] = vText(meeting.created_by.get_full_name())
    event.add("organizer", organizer)
    for attendee in meeting.attendees.all():
        address = vCalAddress(f"mailto:{attendee.user.email}")
        address.params["cn"] = vText(attendee.user.get_full_name())
        address.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", address, encode=False)
    path = reverse(
        "meeting-detail",
        kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "mid": meeting.pk},
    )
    event.add("url", base_url.rstrip("/") + path)
    calendar.add_component(event)
    return calendar.to_ical()


def build_calendar(meetings: list[Meeting], *, base_url: str) -> bytes:
    """One VEVENT per meeting, times in UTC; only shared fields (never internal notes)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Confiance//Follow-up meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Confiance")
    now = timezone.now().astimezone(UTC)
    for meeting in meetings:
        engagement = meeting.engagement
        event = Event()
        event.add("uid", _uid(meeting))
        event.add("dtstamp", now)
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("dtend", meeting.ends_at.astimezone(UTC))
        event.add("summary", f"{meeting.title} — {engagement.title}")
        event.add("status", ICAL_STATUS[MeetingStatus(meeting.status)])
        event.add("sequence", meeting.sequence)
        if meeting.location:
            event.add("location", meeting.location)
        event.add("categories", [meeting.get_channel_display()])
        path = reverse(
            "meeting-detail",
            kwargs={"ws": engagement.workspace.slug, "pk": engagement.pk, "mid": meeting.pk},
        )
        event.add("url", base_url.rstrip("/") + path)
        calendar.add_component(event)
    return calendar.to_ical()
