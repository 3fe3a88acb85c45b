"""Trust pages: who sees which direction, the explanation behind every figure, query counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confiance.core.models import Client
from confiance.engagements.models import ContactOrigin, EngagementStatus
from confiance.engagements.services import engagement_create
from confiance.trust import indicators
from confiance.trust.models import TrustAlert, TrustSnapshot
from confiance.trust.services import trust_record_fact, trust_snapshot_daily
from tests.conftest import World

# What every workspace page costs before its own work: the user with the membership, and the
# navigation's counts (pulse rounds waiting, unread notices) in one query.
PAGE_QUERIES = 2

pytestmark = pytest.mark.django_db


def fact(
    world: World, key: str, n: int, positive: float = 1.0, negative: float = 0.0, engagement=None
) -> None:  # type: ignore[no-untyped-def]
    trust_record_fact(
        engagement=engagement or world.engagement,
        fact=indicators.Fact(
            key,
            timezone.now() - timedelta(days=n),
            positive,
            negative,
            f"{key} number {n}",
            f"/somewhere/{key}/{n}/",
            "test",
            f"{key}-{n}",
        ),
    )


def url(world: World) -> str:
    return reverse("trust", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})


def test_provider_sees_both_directions_with_the_facts_behind_them(world: World, login) -> None:  # type: ignore[no-untyped-def]
    fact(world, "overrun_unannounced", 3, 0.0, 1.0)
    fact(world, "payment_late", 2, 0.0, 1.0)
    page = login("member").get(url(world)).content.decode()
    assert 'data-testid="direction-c2p"' in page and 'data-testid="direction-p2c"' in page
    assert 'href="/somewhere/overrun_unannounced/3/"' in page
    assert "payment_late number 2" in page
    assert 'data-testid="ladder-stage"' in page


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_tables_show_each_fact_escaped_in_the_readers_formats(
    world: World, login, language: str
) -> None:  # type: ignore[no-untyped-def]
    """The dimension and fact tables are written in Python (trust/tables.py): a fact's label and
    link are text, never markup, and its day and weight read as the reader's language writes
    them."""
    import re

    from django.utils import formats, translation

    at = timezone.now() - timedelta(days=3)
    trust_record_fact(
        engagement=world.engagement,
        fact=indicators.Fact(
            "payment_late",
            at,
            0.0,
            1.0,
            '<b>late</b> & "unpaid"',
            '/x/?a=1&b="2"',
            "test",
            "hostile",
        ),
    )
    http = login("member")
    http.cookies["django_language"] = language
    page = http.get(url(world), headers={"accept-language": language}).content.decode()
    assert "<b>late</b>" not in page and 'b="2"' not in page
    label = "&lt;b&gt;late&lt;/b&gt; &amp; &quot;unpaid&quot;"
    link = 'href="/x/?a=1&amp;b=&quot;2&quot;"'
    explanation = page.split('data-testid="explanation-p2c"')[1].split("</table>")[0]
    with translation.override(language):
        day = formats.date_format(timezone.localdate(at), "SHORT_DATE_FORMAT")
        lowers = translation.gettext("lowers trust")
    weight = r"<td>1,\d\d</td>" if language == "fr" else r"<td>1\.\d\d</td>"  # 1.5 decayed
    assert f'<span class="down" aria-label="{lowers}">\u2212</span> <a {link}>{label}</a>' in (
        explanation
    )
    assert f"<td>{day}</td>" in explanation and re.search(weight, explanation)
    by_dimension = page.split('data-testid="direction-p2c"')[1].split('data-testid="explanation')[0]
    assert f"<li>\u2212 <a {link}>{label}</a></li>" in by_dimension


def test_client_sees_client_to_provider_trust_only(world: World, login) -> None:  # type: ignore[no-untyped-def]
    fact(world, "time_logged_promptly", 1)
    fact(world, "payment_late", 2, 0.0, 1.0)
    TrustAlert.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        kind="drop",
        direction="p2c",
        reason="SECRET-P2C-REASON",
        who_should_act="Mark",
    )
    response = login("client_contact").get(url(world))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="direction-c2p"' in page
    assert 'data-testid="direction-p2c"' not in page
    assert "payment_late" not in page and "SECRET-P2C-REASON" not in page
    assert "p2c-trust-data" not in page
    assert 'data-testid="ladder-stage"' not in page


def test_early_warnings_are_for_the_provider_not_the_client(world: World, login) -> None:  # type: ignore[no-untyped-def]
    TrustAlert.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        kind="uncertainty_rise",
        direction="c2p",
        reason="QUIET-FOR-WEEKS",
        who_should_act="Mark",
    )
    assert "QUIET-FOR-WEEKS" in login("member").get(url(world)).content.decode()
    assert "QUIET-FOR-WEEKS" not in login("client_contact").get(url(world)).content.decode()


def test_other_client_and_expert_get_404(world: World, login) -> None:  # type: ignore[no-untyped-def]
    assert login("other_client_contact").get(url(world)).status_code == 404
    assert login("expert").get(url(world)).status_code == 404


def test_no_fact_shows_the_base_rate_and_says_why(world: World, login) -> None:  # type: ignore[no-untyped-def]
    page = login("owner").get(url(world)).content.decode()
    # Peer referral: base rate 0.7, full uncertainty.
    assert 'data-testid="projected-c2p">70 %' in page
    assert "Nothing observed yet" in page or "Rien" in page


def test_trust_page_query_count_does_not_grow_with_facts(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("owner")
    fact(world, "time_logged_promptly", 1)
    with CaptureQueriesContext(connection) as few:
        http.get(url(world))
    for n in range(2, 60):
        fact(world, "time_logged_promptly" if n % 2 else "payment_on_time", n)
    trust_snapshot_daily()
    with CaptureQueriesContext(connection) as many:
        assert http.get(url(world)).status_code == 200
    assert len(many) == len(few)
    # The page's own: the engagement, settings, states, the strongest facts (one query of an
    # index range per direction and dimension), snapshots, alerts, the facts counted, the
    # assignees.
    assert len(many) == PAGE_QUERIES + 8, [q["sql"] for q in many.captured_queries]
    client = login("client_contact")
    client.get(url(world))
    with CaptureQueriesContext(connection) as client_side:
        assert client.get(url(world)).status_code == 200
    # One direction, no alerts, no assignees.
    assert len(client_side) == PAGE_QUERIES + 6, [q["sql"] for q in client_side.captured_queries]


def _engagements(world: World, n: int) -> None:
    for i in range(n):
        e = engagement_create(
            membership=world.owner,
            client=world.client_a,
            title=f"Bulk {i}",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.TENDER,
            start_date=date(2026, 9, 1),
            end_date=date(2026, 12, 31),
            summary="",
            internal_notes="",
        )
        fact(world, "provider_commitment_broken", 1, 0.0, 1.0, engagement=e)
        TrustAlert.objects.create(
            workspace=world.workspace,
            engagement=e,
            kind="drop",
            direction="c2p",
            reason="r",
            who_should_act="x",
        )


def test_portfolio_is_sorted_by_risk_and_has_a_heat_map(world: World, login) -> None:  # type: ignore[no-untyped-def]
    _engagements(world, 1)
    fact(world, "provider_commitment_kept", 1)
    page = login("owner").get(reverse("trust-portfolio", kwargs={"ws": world.workspace.slug}))
    text = page.content.decode()
    assert text.index("Bulk 0") < text.index("Alpha migration")  # broken + alert: riskier
    assert 'class="heatmap' in text
    assert "Beta audit" in text and "Foreign work" not in text


def test_portfolio_says_the_minute_its_figures_are_of(world: World, login) -> None:  # type: ignore[no-untyped-def]
    # Its figures are weighed at the start of the minute (what was weighed then serves the
    # minute's other views), and the page says so, in the reader's language and time zone.
    import time_machine

    fact(world, "provider_commitment_kept", 1)
    target = reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    http = login("owner")
    with time_machine.travel(datetime(2026, 3, 10, 9, 7, 42, tzinfo=UTC), tick=False):
        page = http.get(target, HTTP_ACCEPT_LANGUAGE="en")
        french = http.get(target, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert page.context["as_of"] == datetime(2026, 3, 10, 9, 7, tzinfo=UTC)
    assert "Figures as of 10:07." in page.content.decode()  # Paris, in March
    assert "Chiffres arrêtés à 10:07." in french


def test_the_engagement_page_weighs_at_the_minute_the_portfolio_does(world: World, login) -> None:  # type: ignore[no-untyped-def]
    # One rule for every trust figure shown: as of the start of the minute. Within it, the
    # engagement's own page and the portfolio give the same figure, and both say the minute.
    import time_machine

    for n in (40, 20, 3):
        fact(world, "provider_commitment_kept", n)
    fact(world, "overrun_unannounced", 2, 0.0, 1.0)
    http = login("owner")
    portfolio = reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    with time_machine.travel(datetime(2026, 3, 10, 9, 7, 42, tzinfo=UTC), tick=False):
        page = http.get(url(world), HTTP_ACCEPT_LANGUAGE="fr")
        ranked = http.get(portfolio).context["rows"]
    assert page.context["as_of"] == datetime(2026, 3, 10, 9, 7, tzinfo=UTC)
    assert "Chiffres arrêtés à 10:07." in page.content.decode()
    (row,) = [r for r in ranked if r.engagement.pk == world.engagement.pk]
    shown = {d.direction: d.overall for d in page.context["trust"].directions}
    assert (shown["c2p"].projected, shown["c2p"].low, shown["c2p"].high) == (
        row.c2p.projected,
        row.c2p.low,
        row.c2p.high,
    )
    assert shown["p2c"].projected == row.p2c.projected


def test_portfolio_ranks_with_the_figures_it_shows_and_pages_by_risk(  # type: ignore[no-untyped-def]
    world: World, login, monkeypatch
) -> None:
    from dataclasses import astuple

    from confiance.trust import selectors, views
    from confiance.trust.opinion import Opinion
    from confiance.trust.services import overall_of

    _engagements(world, 3)
    fact(world, "provider_commitment_kept", 1)
    ranked = selectors.trust_portfolio_ranking(fetched_by=world.owner)
    for row in ranked:  # the ranking's plain floats are the opinions' own
        weighed = row.weighed
        dims = {
            k: Opinion.from_evidence(r, s, weighed.base_rate)
            for k, (r, s) in weighed.evidence.items()
        }
        for direction, masses in (("c2p", row.c2p), ("p2c", row.p2c)):
            assert astuple(overall_of(dims, direction, weighed.base_rate)) == masses
    assert [r.risk for r in ranked] == sorted((r.risk for r in ranked), reverse=True)
    monkeypatch.setattr(views, "PORTFOLIO_PAGE", 2)
    target = reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    second = login("owner").get(target, {"page": 2}).content.decode()
    shown = [row.title for row in ranked[2:4]]
    assert all(title in second for title in shown)
    assert not any(row.title in second for row in ranked[:2])
    assert f"({len(ranked)})" in second


def test_portfolio_filters_by_client(world: World, login) -> None:  # type: ignore[no-untyped-def]
    response = login("owner").get(
        reverse("trust-portfolio", kwargs={"ws": world.workspace.slug}),
        {"client": world.client_b.pk},
    )
    text = response.content.decode()
    assert "Beta audit" in text and "Alpha migration" not in text


def test_portfolio_offers_each_lead_of_the_workspace_once(world: World) -> None:
    from confiance.trust.selectors import portfolio_filters

    for n, engagement in enumerate([world.engagement, world.draft, world.engagement_b]):
        engagement.lead = world.member.user if n else world.owner.user
        engagement.save(update_fields=["lead"])
    world.foreign_engagement.lead = world.outsider.user
    world.foreign_engagement.save(update_fields=["lead"])
    filters = portfolio_filters(fetched_by=world.owner)
    expected = sorted([world.owner.user, world.member.user], key=lambda u: u.full_name)
    assert filters["leads"] == [(u.pk, u.get_full_name()) for u in expected]
    # The clients come with the leads (one query), those of this workspace only, by name.
    clients = Client.objects.filter(workspace=world.workspace).order_by("name")
    assert filters["clients"] == [(c.pk, c.name) for c in clients] and len(clients) > 1


def test_portfolio_query_count_does_not_grow_with_engagements(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("owner")
    target = reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    _engagements(world, 2)
    trust_snapshot_daily()
    with CaptureQueriesContext(connection) as few:
        http.get(target)
    _engagements(world, 15)
    trust_snapshot_daily(day=timezone.localdate() - timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        assert http.get(target).status_code == 200
    assert len(many) == len(few)
    # The page's own: engagements with their summary row, trend's snapshot and open alerts; the
    # shown engagements; their alerts; settings; the filters' clients and leads (one query).
    assert len(many) == PAGE_QUERIES + 5, [q["sql"] for q in many.captured_queries]
    assert TrustSnapshot.objects.exists()


def test_owner_changes_a_weight_and_bad_input_is_kept(world: World, login) -> None:  # type: ignore[no-untyped-def]
    http = login("owner")
    target = reverse("trust-settings", kwargs={"ws": world.workspace.slug})
    form = http.get(target).context["form"]
    data = {
        name: form[name].initial if form[name].initial is not None else form.fields[name].initial
        for name in form.fields
    }
    data["weight_time_logged_late"] = "-3"
    response = http.post(target, data)
    assert response.status_code == 400
    assert 'value="-3"' in response.content.decode()
    data["weight_time_logged_late"] = "0.8"
    assert http.post(target, data).status_code == 302
    from confiance.trust.services import trust_settings_for

    assert trust_settings_for(world.workspace).weight("time_logged_late") == 0.8


def test_the_portfolio_filters_find_what_the_engagement_list_would(  # type: ignore[no-untyped-def]
    world: World, login
) -> None:
    from itertools import product

    from confiance.engagements.models import Engagement
    from confiance.trust import selectors
    from confiance.trust.services import ACTIVE_STATUSES

    _engagements(world, 2)
    Engagement.objects.filter(title="Bulk 1").update(lead=world.member.user)
    clients = [None, world.client_a.pk, world.client_b.pk]
    leads = [None, world.owner.user.pk, world.member.user.pk]
    for client_id, lead_id, status in product(clients, leads, [None, *EngagementStatus.values]):
        expected = Engagement.objects.visible_to(world.owner).filter(
            status__in=[status] if status else ACTIVE_STATUSES
        )
        if client_id:
            expected = expected.filter(client_id=client_id)
        if lead_id:
            expected = expected.filter(lead_id=lead_id)
        ranked = selectors.trust_portfolio_ranking(
            fetched_by=world.owner, client_id=client_id, lead_id=lead_id, status=status
        )
        assert sorted(r.pk for r in ranked) == sorted(e.pk for e in expected), (
            client_id,
            lead_id,
            status,
        )
    page = reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    http = login("owner")
    for query in ("client=99999999999999999999", "lead=-99999999999999999999", "status=nonsense"):
        answer = http.get(f"{page}?{query}")
        assert answer.status_code == 200 and answer.context["total"] == 0, query
