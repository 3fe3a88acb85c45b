"""The demo client opens its engagement's consumption and sees the burn-up chart."""

from __future__ import annotations

import pytest

from confiance.core.demo import DEMO_PASSWORD, build_demo
from tests.browser.conftest import shot

pytestmark = pytest.mark.django_db(transaction=True)


def test_demo_client_sees_the_burn_up_chart(page) -> None:
    build_demo()
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill("sophie.lefevre@saint-roch.example")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Migration du dossier patient / Patient record migration").click()
    page.get_by_role("button", name="Consumption").click()
    page.get_by_role("heading", name="Burn-up").wait_for()
    # Chart.js (from npm) drew the chart: the canvas is marked ready and has pixels.
    page.locator("#burnup-chart[data-ready='true']").wait_for()
    painted = page.evaluate(
        """() => {
            const c = document.getElementById('burnup-chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return n;
        }"""
    )
    assert painted > 1000
    assert page.get_by_test_id("consumed").inner_text().endswith("days")
    assert "internal" not in page.locator("table.entries").inner_text().lower()
    shot(page, "client-consumption")
