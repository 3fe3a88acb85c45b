"""A client raises a problem; the consultant acknowledges, owns, escalates, updates, resolves;
the client confirms. Every step shows in the timeline, with its time."""

from __future__ import annotations

import pytest

from confiance.problems.models import Problem
from tests.browser.conftest import shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_step(page, summary: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("summary", has_text=summary).click()


def submit(page, label: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("form button", has_text=label).click()


def test_client_raises_member_handles_client_confirms(page, world) -> None:  # type: ignore[no-untyped-def]
    engagement_url = f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/"

    log_in(page, world.client_contact.user.email)
    page.goto(engagement_url)
    page.get_by_role("button", name="Problems").click()
    page.get_by_role("button", name="Raise a problem").click()
    page.get_by_label("What is wrong, in a few words").fill("Nightly export fails")
    page.get_by_label("Description").fill("The 2 a.m. export has been empty since Monday.")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Your priority").select_option("critical")
    submit(page, "Raise the problem")
    page.get_by_text("Problem raised.").wait_for()
    problem = Problem.objects.get()
    assert not problem.proactive and problem.client_priority == "critical"
    problem_url = f"{engagement_url}problems/{problem.pk}/"
    shot(page, "problem-raised-by-client")

    log_in(page, world.member.user.email)
    page.goto(problem_url)
    submit(page, "Acknowledge")
    page.get_by_text("Problem acknowledged.").wait_for()
    open_step(page, "Name the owner")
    page.get_by_label("Owner", exact=True).select_option(label="Mark Member")
    submit(page, "Name the owner")
    page.get_by_text("Owner named.").wait_for()
    open_step(page, "Escalate")
    page.get_by_label("Level", exact=True).select_option("1")
    page.get_by_label("Person at this level").select_option(label="Olivia Owner")
    submit(page, "Escalate")
    page.get_by_text("Problem escalated.").wait_for()
    open_step(page, "Post a progress update")
    page.get_by_label("Progress update").fill("Root cause found: a full disk on the batch server.")
    submit(page, "Post the update")
    page.get_by_text("Progress update posted.").wait_for()
    assert "early, before any target was missed" in page.locator("#timeline").inner_text()
    open_step(page, "Mark as resolved")
    submit(page, "Mark as resolved")
    page.get_by_text("Problem resolved; the client will confirm.").wait_for()
    shot(page, "problem-resolved-by-member")

    log_in(page, world.client_contact.user.email)
    page.goto(problem_url)
    submit(page, "Confirm the resolution")
    page.get_by_text("Resolution confirmed: the problem is closed.").wait_for()
    assert page.get_by_test_id("problem-status").inner_text().startswith("Closed")
    timeline = page.locator("#timeline").inner_text()
    for step in ("Raised", "Acknowledged", "Owner named", "Escalated", "Progress update",
                 "Resolved", "Closed by the client"):  # fmt: skip
        assert step in timeline
    assert "Internal comments" not in page.content()
    shot(page, "problem-closed-by-client")
