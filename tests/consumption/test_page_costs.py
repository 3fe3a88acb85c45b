"""What a page costs in queries does not grow with the engagement's entries (issue 14)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confiance.consumption import services
from confiance.consumption.models import TimeEntry
from confiance.consumption.services import EntryInput
from tests.conftest import World


def _log(world: World, count: int) -> None:
    today = timezone.localdate()
    services.time_entries_log(
        membership=world.member,
        engagement=world.engagement,
        items=[
            EntryInput(
                person=world.member.user,
                date=today - timedelta(days=i % 90),
                minutes=30 + 30 * (i % 4),
                shared_note=f"note {i}",
            )
            for i in range(count)
        ],
    )


def _queries(http, target: str) -> list[str]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        assert http.get(target).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


PAGES = {
    "consumption": ("consumption", True),
    "engagement page": ("engagement-detail", True),
    "engagement list": ("engagement-list", False),
    "client page": ("client-detail", False),
    "trust page": ("trust", True),
}

# The queries each page makes, pinned: lower a pin when a page needs fewer, never raise it
# without a reason in the commit.
PINNED = {
    ("consumption", "owner"): 14,
    ("consumption", "client_contact"): 13,
    ("engagement page", "owner"): 14,
    ("engagement page", "client_contact"): 13,
    ("engagement list", "owner"): 10,
    ("engagement list", "client_contact"): 10,
    ("client page", "owner"): 13,
    ("client page", "client_contact"): 12,
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("persona", ["owner", "client_contact"])
def test_page_queries_are_the_same_at_10_and_200_entries(
    login,  # type: ignore[no-untyped-def]
    world: World,
    page: str,
    persona: str,
) -> None:
    name, of_engagement = PAGES[page]
    kwargs = {"ws": world.workspace.slug}
    if of_engagement:
        kwargs["pk"] = world.engagement.pk
    if page == "client page":
        kwargs["pk"] = world.client_a.pk
    target = reverse(name, kwargs=kwargs)
    http = login(persona)
    _log(world, 10)
    http.get(target)  # the session and the log's key are created on first use
    few = _queries(http, target)
    _log(world, 190)
    # A correction adds two rows (reversal and replacement) to the entries table.
    corrected = TimeEntry.objects.filter(engagement=world.engagement).first()
    assert corrected is not None
    services.time_entry_correct(
        membership=world.member,
        entry=corrected,
        reason="Wrong day",
        replacement=EntryInput(
            person=world.member.user, date=timezone.localdate(), minutes=60, shared_note="fixed"
        ),
    )
    many = _queries(http, target)
    assert len(many) == len(few), set(many) ^ set(few)
    if (page, persona) in PINNED:
        assert len(many) == PINNED[page, persona], "\n".join(many)


def test_consumption_pager_counts_corrections_without_counting_rows(
    login,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    _log(world, 60)
    entry = TimeEntry.objects.filter(engagement=world.engagement).first()
    assert entry is not None
    services.time_entry_correct(
        membership=world.member, entry=entry, reason="Never happened", replacement=None
    )
    target = reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    queries = _queries(login("owner"), target)
    page = login("owner").get(target)
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 61
    assert "Page 1 of 2" in page.content.decode()
    assert not [sql for sql in queries if "COUNT" in sql and "consumption_timeentry" in sql]
