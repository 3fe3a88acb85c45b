"""The iCalendar feed of the meetings a person is expected at (RFC 5545, via `icalendar`)."""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from confiance.followup.models import Meeting, MeetingStatus

ICAL_STATUS = {
    MeetingStatus.PLANNED: "CONFIRMED",
    MeetingStatus.HELD: "CONFIRMED",
    MeetingStatus.CANCELLED: "CANCELLED",
}


def build_calendar(meetings: list[Meeting], *, base_url: str) -> bytes:
    """One VEVENT per meeting, times in UTC; only shared fields (never internal notes)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Confiance//Follow-up meetings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Confiance")
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "confiance"
    now = timezone.now().astimezone(UTC)
    for meeting in meetings:
        engagement = meeting.engagement
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", meeting.starts_at.astimezone(UTC))
        event.add("dtend", meeting.ends_at.astimezone(UTC))
        event.add("summary", f"{meeting.title} — {engagement.title}")
        event.add("status", ICAL_STATUS[MeetingStatus(meeting.status)])
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
