"""On a 390 px phone the header is one compact bar: the links, the account and the language
wait behind "Menu" (the header took 330 of 844 px before), and the menu opens them."""

from __future__ import annotations

import pytest

from tests.browser.test_closure_page import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_on_a_phone_the_header_is_one_bar_and_the_menu_opens_everything(page, world) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, world.client_contact.user.email)
    page.goto(f"{page.base}/w/{world.workspace.slug}/engagements/")
    page.get_by_role("heading", name="Engagements", exact=True).wait_for()
    header = page.locator("header.site-header").bounding_box()
    assert header is not None and header["height"] <= 100, header
    password = page.get_by_role("link", name="Password")
    language = page.get_by_label("Language")
    assert not password.is_visible() and not language.is_visible()

    menu = page.get_by_role("button", name="Menu")
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    for link in ("Engagements", "Overview", "Notices", "Password"):
        assert page.get_by_role("link", name=link, exact=True).is_visible(), link
    assert language.is_visible()
    language.select_option("fr")
    page.get_by_role("button", name="Menu").wait_for()
    assert page.locator("html").get_attribute("lang") == "fr"
