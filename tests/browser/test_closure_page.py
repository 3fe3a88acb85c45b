"""The provider assesses the objectives; the client writes its retrospective and approves."""

from __future__ import annotations

import pytest

from confiance.closure.models import ClosureApproval
from confiance.engagements.models import EngagementStatus
from tests.browser.conftest import shot
from tests.closure.support import objectives
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_closure_assessed_by_the_provider_then_approved_by_the_client(page, world) -> None:
    first, second = objectives(world)
    log_in(page, world.member.user.email)
    page.goto(f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/")
    page.get_by_role("button", name="Closure").click()
    page.get_by_role("button", name="Start the closure").click()
    page.get_by_text("The closure has started.").wait_for()
    for objective, level in ((first, "Attained"), (second, "Partly attained")):
        row = page.get_by_role("row").filter(has_text=objective.text)
        row.get_by_text("Assess", exact=True).click()
        row.get_by_label("Attainment").select_option(label=level)
        row.get_by_label("Evidence").fill(f"Constaté : {objective.success_measure}")
        row.get_by_role("button", name="Save").click()
        page.get_by_text("Attainment recorded.").wait_for()
    page.get_by_label("Lessons").fill("Répéter la bascule avant le jour J")
    page.locator("form[action$='/closure/retrospective/']").get_by_role("button").click()
    page.get_by_text("Your retrospective is saved.").wait_for()
    shot(page, "closure-provider")

    page.context.clear_cookies()
    log_in(page, world.client_contact.user.email)
    page.goto(f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/closure/")
    page.get_by_label("What went well").fill("Le consommé visible chaque semaine")
    page.locator("form[action$='/closure/retrospective/']").get_by_role("button").click()
    page.get_by_text("Your retrospective is saved.").wait_for()
    page.get_by_label("I have read the analysis and both retrospectives").check()
    page.get_by_role("button", name="Approve for payment").click()
    page.get_by_text("Approved for payment by Carla Contact").wait_for()
    shot(page, "closure-client-approved")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the closure report (PDF)").click()
    assert download.value.suggested_filename == "closure-alpha-migration.pdf"
    approval = ClosureApproval.objects.get()
    assert approval.approved_by == world.client_contact.user
    world.engagement.refresh_from_db()
    assert world.engagement.status == EngagementStatus.CLOSED
