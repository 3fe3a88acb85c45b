"""Emergence in a real browser, with three people at once (the opener, an invited expert, the
client's contact): open, invite, discuss, propose a role, nominate, endorse, co-edit the
agreement, both accept, convert — checking at each step what each of them sees."""

from __future__ import annotations

import re

import pytest

from confiance.emergence import services
from confiance.emergence.models import Opportunity
from tests.browser.conftest import shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def _person(browser, base: str, email: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)  # a long journey on a busy machine
    page.goto(base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return context, page


def test_open_invite_discuss_form_a_team_agree_and_convert(browser, live_server, world) -> None:  # type: ignore[no-untyped-def]
    base = live_server.url
    ws = world.workspace.slug
    # Another opportunity the expert was never invited to: it must stay out of their sight.
    hidden = services.opportunity_open(
        membership=world.owner,
        title="Secret restructuring",
        client=world.client_b,
        client_problem="Confidential",
    )
    contexts = []
    try:
        o_ctx, opener = _person(browser, base, world.owner.user.email)
        e_ctx, expert = _person(browser, base, world.expert.user.email)
        c_ctx, client = _person(browser, base, world.client_contact.user.email)
        contexts = [o_ctx, e_ctx, c_ctx]

        # 1. The opener opens the client's need.
        opener.goto(f"{base}/w/{ws}/opportunities/new/")
        opener.get_by_label("Title").fill("Data platform")
        opener.get_by_label("Client", exact=True).select_option(label="Client A")
        opener.get_by_label("The problem, as the client sees it").fill(
            "Reports take a week to produce."
        )
        opener.get_by_role("button", name="Open").click()
        opener.get_by_role("heading", name="Data platform").wait_for()
        opportunity = Opportunity.objects.get(title="Data platform")
        detail = f"{base}/w/{ws}/opportunities/{opportunity.pk}/"

        # Before any invitation, neither the expert nor the client reaches it.
        assert expert.goto(detail).status == 404
        assert client.goto(detail).status == 404

        # 2. The opener invites the expert (with an introduction) and the client's contact.
        opener.goto(detail)
        opener.get_by_text("Invite someone").click()
        opener.get_by_label("E-mail address").fill(world.expert.user.email)
        opener.get_by_label("Introduction").fill("Built three data platforms for retailers.")
        opener.get_by_role("button", name="Invite", exact=True).click()
        opener.get_by_text("Invitation sent.").wait_for()
        opener.get_by_text("Invite someone").click()
        opener.get_by_label("E-mail address").fill(world.client_contact.user.email)
        opener.get_by_label("A contact of the client").check()
        opener.get_by_role("button", name="Invite", exact=True).click()
        opener.get_by_text("Invitation sent.").wait_for()

        # The expert sees this opportunity only, and is free to join.
        expert.goto(f"{base}/w/{ws}/opportunities/")
        assert expert.get_by_text("Data platform").count() >= 1
        assert expert.get_by_text("Secret restructuring").count() == 0
        assert expert.goto(f"{base}/w/{ws}/opportunities/{hidden.pk}/").status == 404
        expert.goto(detail)
        expert.get_by_role("heading", name="You are invited").wait_for()
        assert expert.get_by_text("Contact origin").count() == 0  # internal facts stay inside
        expert.get_by_role("button", name="Join").click()
        expert.get_by_text("Welcome: you take part in this opportunity.").wait_for()
        client.goto(detail)
        client.get_by_role("button", name="Join").click()
        client.get_by_text("Welcome: you take part in this opportunity.").wait_for()
        shot(client, "emergence-1-client-joined")

        # 3. Discussion: the expert writes, the client reads it and replies.
        expert.goto(detail + "discussion/")
        expert.get_by_role("textbox", name="Message").fill("Start with **one** report, end to end.")
        expert.get_by_role("button", name="Post").click()
        expert.get_by_text("Message posted.").wait_for()
        client.goto(detail + "discussion/")
        client.locator(".post-body strong", has_text="one").wait_for()
        client.get_by_text("Reply", exact=True).first.click()
        client.get_by_label("Reply to Eve Expert").fill("Agreed: the weekly sales report.")
        client.get_by_role("button", name="Reply", exact=True).click()
        client.get_by_text("Message posted.").wait_for()
        opener.goto(detail + "discussion/")
        opener.get_by_text("Agreed: the weekly sales report.").wait_for()

        # 4. The discussion converges.
        opener.goto(detail)
        opener.get_by_text("Move to another phase").click()
        opener.get_by_label("Move to").select_option("converging")
        opener.get_by_role("button", name="Move", exact=True).click()
        opener.get_by_text("Phase changed.").wait_for()
        client.goto(detail)
        assert client.locator("#phase").inner_text() == "Converging"

        # 5. The expert proposes a role and puts themself forward; the client endorses.
        expert.goto(detail)
        expert.get_by_text("Propose a role").click()
        expert.get_by_label("Role", exact=True).fill("Data architect")
        expert.get_by_label("Days", exact=True).fill("20")
        expert.get_by_role("button", name="Propose", exact=True).click()
        expert.get_by_text("Role proposed.").wait_for()
        expert.get_by_role("button", name="Put myself forward as Data architect").click()
        expert.get_by_text("You put yourself forward for this role.").wait_for()
        client.goto(detail)
        client.get_by_label("A word for Eve Expert").fill("She knows our data.")
        client.get_by_role("button", name="Endorse", exact=True).click()
        client.get_by_text("Your word is recorded.").wait_for()
        # Everyone sees the endorsement; the opener accepts the nomination directly.
        expert.goto(detail)
        expert.get_by_text("“She knows our data.”").wait_for()
        opener.goto(detail)
        opener.get_by_role("button", name="Accept Eve Expert").click()
        opener.get_by_text("Nomination accepted: the role is held.").wait_for()
        client.goto(detail)
        client.get_by_text("Held by Eve Expert").wait_for()

        # 6. The opener starts the agreement from the template and sets its terms.
        agreement = detail + "agreement/"
        client.goto(agreement)
        client.get_by_text("The agreement has not been started yet.").wait_for()
        opener.goto(agreement)
        opener.get_by_label("Language of the agreement").select_option("en")
        opener.get_by_role("button", name="Start the agreement").click()
        opener.get_by_role("heading", name="4. The right to stop").wait_for()
        opener.get_by_text("Change the terms").click()
        opener.get_by_label("Objectives").fill("Weekly sales report in one hour")
        opener.get_by_label("Budget cap (days)").fill("60")
        opener.get_by_label("Number of iterations").fill("3")
        opener.get_by_label("Budget cap of each iteration (days)").fill("20")
        opener.get_by_label("Trust review every (weeks)").fill("4")
        opener.get_by_role("button", name="Save the terms").click()
        opener.get_by_text("Terms changed").wait_for()

        # 7. The client co-edits a clause and comments on another; the expert sees both.
        client.goto(agreement)
        clause = client.locator("#clause-stopping")
        clause.get_by_text("Edit this clause").click()
        clause.locator("#id_stopping_text").fill(
            "Either side may stop at the end of any iteration, with one week's notice."
        )
        clause.locator("#id_stopping_note").fill("We need a week to plan")
        clause.get_by_role("button", name="Save the clause").click()
        client.get_by_text("Clause changed").wait_for()
        closure = client.locator("#clause-closure")
        closure.get_by_text("Comment on this clause").click()
        closure.locator("#id_c_closure_body").fill("Who signs the approval on our side?")
        closure.get_by_role("button", name="Comment", exact=True).click()
        client.get_by_text("Comment added.").wait_for()
        expert.goto(agreement)
        expert.get_by_text("with one week's notice").first.wait_for()
        expert.get_by_text("Who signs the approval on our side?").wait_for()
        assert expert.locator("#version-number").inner_text() == "3"
        # The expert co-edits too, but accepts for no side.
        assert expert.get_by_role("button", name=re.compile("for my side")).count() == 0
        expert.get_by_role("button", name="What changed").click()
        expert.locator(".diff-add", has_text="one week's notice").wait_for()

        # 8. Both sides accept the same version; a change in between would void an acceptance.
        opener.goto(agreement)
        opener.get_by_role("button", name="Accept version 3 for my side").click()
        opener.get_by_text("You accepted this version for your side.").wait_for()
        client.goto(agreement)
        assert "Being written" in client.locator("#agreement-state").inner_text()
        client.get_by_role("button", name="Accept version 3 for my side").click()
        client.get_by_text("You accepted this version for your side.").wait_for()
        assert "Agreed" in client.locator("#agreement-state").inner_text()
        sha = client.locator("#version-sha").inner_text()
        opener.goto(agreement)
        assert "Agreed" in opener.locator("#agreement-state").inner_text()
        shot(client, "emergence-2-agreed")

        # 9. The opener converts: the engagement carries the client, the team and the terms.
        opener.goto(detail)
        opener.get_by_role("button", name="Convert into an engagement").click()
        opener.get_by_text("The opportunity is now an engagement").wait_for()
        opener.get_by_text("Weekly sales report in one hour").first.wait_for()
        opener.get_by_text("Data architect").first.wait_for()
        engagement_url = opener.url
        # The client finds the engagement and reads, from it, the discussion and agreed text.
        client.goto(engagement_url)
        client.get_by_role("heading", name="Data platform").wait_for()
        client.get_by_role(
            "link", name="Before the contract: the discussion and the agreement"
        ).click()
        client.get_by_text("Agreed: the weekly sales report.").wait_for()
        client.get_by_text(sha).wait_for()
        shot(client, "emergence-3-engagement")
        # The expert keeps reading the opportunity, told it became an engagement, and never
        # reaches the engagement's internals.
        expert.goto(detail)
        expert.get_by_role("heading", name="This opportunity became an engagement").wait_for()
        assert expert.goto(engagement_url).status == 404
        assert expert.goto(engagement_url.rstrip("/") + "/emergence/").status == 404
    finally:
        for context in contexts:
            context.close()
