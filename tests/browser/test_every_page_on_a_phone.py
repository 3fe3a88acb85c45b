"""Every page type, for every role, on a 390 px phone: no sideways scroll, no serious or critical
accessibility violation (axe-core from npm), in real Chromium, on the demo.

Pages are found by following links (tests/crawl.py), so a page anyone adds is swept as soon as
something links to it. Swept on SQLite, the first pass of `make test` (see the test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.test import Client as HttpClient

from confiance.core.demo import DEMO_SLUG, build_demo
from confiance.core.models import Membership
from tests.browser.conftest import shot
from tests.crawl import crawl

if TYPE_CHECKING:
    from playwright.sync_api import Route

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
# Only the serious and critical violations fail the sweep, so axe runs only the rules that can
# give one: in axe-core 4.x a rule with an impact gives every violation that impact (axe.js,
# _finalizeRuleResult), and the 32 minor or moderate rules (`region`, landmarks, heading order…)
# are left out. Same verdict on each of the 288 pages (checked on 4 December 2026 with both
# runs on every page); axe's own time 36 s -> 22 s a sweep.
AXE_RUN = """async () => {
  const rules = {};
  for (const rule of axe._audit.rules) {
    if (rule.impact === "minor" || rule.impact === "moderate") rules[rule.id] = {enabled: false};
  }
  const result = await axe.run(document, {resultTypes: ["violations"], rules});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => {
      const where = v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
      return `${v.impact} ${v.id}: ${where}`;
    });
}"""
# What sticks out to the right, to name the culprit when a page scrolls sideways.
WIDE = """() => {
  const limit = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.right > limit + 1 && box.width > 0) {
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
      found.push(`${name}.${[...el.classList].join(".")} right=${Math.round(box.right)}`);
    }
  }
  return found.slice(0, 5);
}"""


def _pages_of(membership: Membership) -> Iterator[tuple[str, str, str]]:
    """(path, URL name, HTML) of each page type the person reaches, rendered by the server once:
    Chromium is then given that HTML for the page's address (its static files still come from
    the live server), instead of asking the server to render the page a second time."""
    http = HttpClient(headers={"accept-language": "en-GB"})  # as the en-GB browser asks
    http.force_login(membership.user)

    def fetch(path: str) -> tuple[int, str, str]:
        response = http.get(path)
        if response.has_header("Location"):
            return response.status_code, "", response["Location"]
        content_type = response.get("Content-Type", "")
        if "html" not in content_type:  # exports (CSV, XLSX, PDF) are not pages: no links to follow
            return response.status_code, content_type, ""
        return response.status_code, content_type, response.content.decode(errors="replace")

    for path, name, status, html in crawl(fetch, f"/w/{DEMO_SLUG}/engagements/"):
        if status == 200:
            yield path, name, html


def test_every_page_for_every_role_fits_a_phone_and_passes_axe(browser, live_server) -> None:
    from django.db import connection

    if connection.vendor != "sqlite":
        # `make test` runs the suite on SQLite, then again on PostgreSQL. What Chromium checks
        # here (width on a phone, axe) is a property of the pages' HTML and CSS, built from the
        # same demo on either database; on PostgreSQL every page type of every role is rendered
        # (answering below 500) by the French sweep, tests/test_french.py. The sweep took 105 s
        # of a worker in the PostgreSQL pass (4 December 2026).
        pytest.skip("swept on SQLite; on PostgreSQL the pages are rendered by test_french.py")
    assert AXE.exists(), "axe-core is installed by npm (package.json): run `make install`"
    build_demo()
    problems: list[str] = []
    swept = 0
    rendered: dict[str, str] = {}  # address -> the HTML the server rendered for it

    def serve(route: Route) -> None:
        if route.request.is_navigation_request() and route.request.url in rendered:
            html = rendered.pop(route.request.url)
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.continue_()

    for membership in Membership.objects.filter(workspace__slug=DEMO_SLUG).select_related("user"):
        http = HttpClient()
        http.force_login(membership.user)
        context = browser.new_context(viewport=PHONE, locale="en-GB", bypass_csp=True)
        context.add_cookies(
            [
                {
                    "name": "sessionid",
                    "value": http.cookies["sessionid"].value,
                    "url": live_server.url,
                }
            ]
        )
        # axe-core is handed to the browser once per person, and is in every page it opens.
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.route(lambda url: url in rendered, serve)
        for path, name, html in _pages_of(membership):
            rendered[live_server.url + path] = html
            page.goto(live_server.url + path)
            swept += 1
            where = f"{membership.role} {name} {path}"
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                problems.append(f"{where}: scrolls sideways by {overflow}px {page.evaluate(WIDE)}")
                shot(page, f"phone-overflow-{membership.role}-{name}")
            for violation in page.evaluate(AXE_RUN):
                problems.append(f"{where}: {violation}")
        page.unroute_all()
        if membership.role == "client":
            page.goto(f"{live_server.url}/w/{DEMO_SLUG}/engagements/")
            shot(page, "phone-client-engagements")
        context.close()
    assert swept > 60, f"only {swept} pages swept: the crawl lost its way"
    assert not problems, "\n".join(problems)
