"""A new user on an empty installation, with no shell step: set up, create a client and an
engagement with a budget, invite the client's contact (who accepts in another browser), log
time, record a commitment and a meeting, take a problem the client raised, close with the
client's approval and download the month's statement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from confiance.engagements.models import Engagement, EngagementStatus
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)

OWNER_PASSWORD = "a-long-and-new-passphrase-7"
CLIENT_PASSWORD = "another-long-passphrase-9"


def tab(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name=name, exact=True).click()


def test_a_newcomer_runs_a_whole_engagement_from_an_empty_installation(browser, page) -> None:  # type: ignore[no-untyped-def]
    today = timezone.localdate()

    # First run: the empty installation opens on its set-up page.
    page.goto(page.base + "/")
    page.get_by_role("heading", name="Set up Confiance").wait_for()
    page.get_by_label("Your name").fill("Élise Owner")
    page.get_by_label("E-mail address").fill("elise@atelier.example")
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_label("Your organisation").fill("Atelier Nord")
    page.get_by_role("button", name="Create the workspace").click()
    page.get_by_text("Welcome. Your workspace is ready.").wait_for()

    # A client, from the menu.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_label("Name of the client").fill("Brasserie du Port")
    page.get_by_role("button", name="Create the client").click()
    page.get_by_role("heading", name="Brasserie du Port").wait_for()

    # An engagement for it, active, led by the owner.
    page.get_by_role("link", name="Engagements", exact=True).click()
    page.get_by_role("button", name="New engagement").click()
    page.get_by_label("Title").fill("Stock control")
    page.get_by_label("Client", exact=True).select_option(label="Brasserie du Port")
    page.get_by_label("Status").select_option(label="Active")
    page.get_by_label("Start date").fill((today - timedelta(days=7)).isoformat())
    page.get_by_label("Planned end date").fill((today + timedelta(days=60)).isoformat())
    page.get_by_label("Summary (shared with the client)").fill("Count stock daily, not monthly.")
    page.get_by_role("button", name="Create the engagement").click()
    page.get_by_role("heading", name="Stock control").wait_for()
    engagement = Engagement.objects.get()
    engagement_url = page.url

    # Its budget, on the consumption page.
    tab(page, "Consumption")
    page.get_by_label("Budget in days").fill("10")
    page.get_by_label("Why (the client reads it)").fill("Signed quote, 10 days")
    page.get_by_role("button", name="Record the budget").click()
    page.get_by_text("Budget recorded.").wait_for()
    shot(page, "zero-budget")

    # The client's contact is invited; the link is passed on by hand.
    page.get_by_role("link", name="Members", exact=True).click()
    page.get_by_label("E-mail address").fill("marc@brasserie.example")
    assert page.get_by_label("Role").input_value() == "client"
    page.get_by_label("Client (for a client contact)").select_option(label="Brasserie du Port")
    page.get_by_role("button", name="Send the invitation").click()
    link = page.get_by_label("Invitation link").input_value()
    assert link.startswith(page.base + "/invitations/"), link

    client_context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    client = client_context.new_page()
    client.set_default_timeout(10_000)
    client.goto(link)
    client.get_by_label("Your name").fill("Marc Client")
    client.get_by_label("Choose a password").fill(CLIENT_PASSWORD)
    client.get_by_role("button", name="Accept the invitation").click()
    client.get_by_text("Welcome to Atelier Nord.").wait_for()

    # The owner logs time.
    page.goto(engagement_url)
    tab(page, "Consumption")
    page.get_by_label("Date worked").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Duration").fill("3:30")
    page.get_by_label("Note (shared with the client)").fill("Inventory of the cellar")
    page.get_by_role("button", name="Log", exact=True).click()
    page.get_by_text("Time logged.").wait_for()

    # A commitment and a meeting, on the follow-up page.
    page.goto(engagement_url)
    tab(page, "Follow-up")
    form = page.locator("details", has_text="Record a commitment")
    form.locator("summary").click()
    form.get_by_label("Commitment", exact=True).fill("Deliver the counting sheet")
    form.get_by_label("Due date").fill((today + timedelta(days=5)).isoformat())
    form.get_by_role("button", name="Record the commitment").click()
    page.get_by_role("link", name="Deliver the counting sheet").wait_for()
    page.goto(engagement_url)
    tab(page, "Follow-up")
    form = page.locator("details", has_text="Plan a meeting")
    form.locator("summary").click()
    form.get_by_label("Title").fill("Weekly stock review")
    form.get_by_label("Starts at").fill((today + timedelta(days=2)).isoformat() + "T10:00")
    form.get_by_label("Marc Client").check()
    form.get_by_label("Élise Owner").check()
    form.get_by_role("button", name="Plan the meeting").click()
    page.get_by_role("link", name="Weekly stock review").wait_for()
    shot(page, "zero-followup")

    # The client sees the engagement and raises a problem.
    client.get_by_role("link", name="Engagements", exact=True).click()
    client.get_by_role("link", name="Stock control").click()
    tab(client, "Consumption")
    entries = client.locator("table", has_text="Inventory of the cellar")
    assert "3.5\xa0h" in entries.inner_text(), "the client sees the time as it was logged"
    client.goto(engagement_url)
    tab(client, "Problems")
    client.get_by_role("button", name="Raise a problem").click()
    client.get_by_label("What is wrong, in a few words").fill("Counts differ from the till")
    client.get_by_label("Severity").select_option("high")
    client.get_by_role("button", name="Raise the problem").click()
    client.get_by_text("Problem raised.").wait_for()
    problem_url = client.url

    page.goto(problem_url)
    page.locator("form button", has_text="Acknowledge").click()
    page.get_by_text("Problem acknowledged.").wait_for()

    # Closure: the provider assesses, the client approves.
    page.goto(engagement_url)
    tab(page, "Closure")
    page.get_by_role("button", name="Start the closure").click()
    page.get_by_text("The closure has started.").wait_for()
    page.get_by_label("What went well").fill("Daily counts from week one")
    page.locator("form[action$='/closure/retrospective/']").get_by_role("button").click()
    page.get_by_text("Your retrospective is saved.").wait_for()

    client.goto(engagement_url)
    tab(client, "Closure")
    client.get_by_label("What went well").fill("We saw every day consumed")
    client.locator("form[action$='/closure/retrospective/']").get_by_role("button").click()
    client.get_by_text("Your retrospective is saved.").wait_for()
    client.get_by_label("I have read the analysis and both retrospectives").check()
    # The problem and the commitment are still open: the client approves knowing it.
    client.get_by_label("I know these problems and commitments are still open.").check()
    client.get_by_role("button", name="Approve for payment").click()
    client.get_by_text("Approved for payment by Marc Client").wait_for()
    shot(client, "zero-closure-approved")
    engagement.refresh_from_db()
    assert engagement.status == EngagementStatus.CLOSED

    # The client downloads the statement of the month the time was logged in (this month, or
    # the month before on the 1st).
    client.goto(engagement_url)
    tab(client, "Consumption")
    statement_month = client.get_by_label("Monthly consumption statement (PDF)")
    assert statement_month.input_value() == today.strftime("%Y-%m")  # this month by default
    statement_month.fill((today - timedelta(days=1)).strftime("%Y-%m"))
    with client.expect_download() as download:
        client.get_by_role("button", name="Download the statement").click()
    assert download.value.suggested_filename.endswith(".pdf")
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    text = " ".join(text.replace("\xa0", " ").split())
    for expected in ("Stock control", "Brasserie du Port", "Inventory of the cellar", "3.5 h"):
        assert expected in text, (expected, text)
    client_context.close()
