"""A client contact's journey in a real browser: log in, see the engagement, French, log out; then
log in again with the keyboard alone."""

from __future__ import annotations

import pytest

from confiance.core.demo import DEMO_PASSWORD, build_demo
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)

CLIENT_EMAIL = "sophie.lefevre@saint-roch.example"


def test_demo_client_logs_in_sees_engagement_switches_to_french_logs_out_then_in_by_keyboard(
    page,
) -> None:
    from playwright.sync_api import expect

    build_demo()
    page.goto(page.base + "/")
    page.get_by_label("E-mail address").fill(CLIENT_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("heading", name="Engagements").wait_for()
    table = page.locator("#results table")
    assert "Patient record migration" in table.inner_text()
    assert "Data platform scoping" not in table.inner_text(), "drafts stay hidden from clients"
    assert "Route planning" not in table.inner_text(), "another client's work stays hidden"
    shot(page, "client-engagements-en")

    page.get_by_role("link", name="Migration du dossier patient / Patient record migration").click()
    page.get_by_role("heading", name="Summary").wait_for()
    assert "Internal notes" not in page.content()

    page.get_by_label("Language").select_option("fr")
    page.get_by_role("heading", name="Résumé").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
    shot(page, "client-engagement-fr")

    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_role("heading", name="Se connecter").wait_for()
    assert page.url.endswith("/accounts/login/")

    # A keyboard user logs in, as a new visitor (on the same demo: a build costs seconds).
    page.context.clear_cookies()
    page.goto(page.base + "/accounts/login/")
    # The e-mail field has the focus on arrival. The browser gives it at its next rendering, which
    # a loaded machine may delay past the load event: typed before it, the address was lost.
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.type(CLIENT_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Engagements").wait_for()
