"""At a glance: consumed, forecast status, trust band, open problems and the next commitment due,
on the engagement list, the engagement page and the client's page, in a fixed number of queries."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confiance.consumption.selectors import consumption_summary
from confiance.consumption.services import EntryInput, budget_revise, time_entry_log
from confiance.engagements.glance import glance
from confiance.engagements.models import ContactOrigin, EngagementStatus
from confiance.engagements.services import engagement_create
from confiance.followup.services import commitment_create
from confiance.problems.services import problem_raise
from confiance.trust.tasks import trust_refresh_all
from tests.conftest import World


def _busy(world: World, n: int) -> None:
    """n more active engagements of client A, each with a budget, time, a problem, a commitment."""
    today = timezone.localdate()
    for i in range(n):
        engagement = engagement_create(
            membership=world.owner,
            client=world.client_a,
            title=f"Busy {i}",
            status=EngagementStatus.ACTIVE,
            contact_origin=ContactOrigin.TENDER,
            start_date=today - timedelta(days=30),
            end_date=today + timedelta(days=30),
            lead=world.member.user,
        )
        budget_revise(
            membership=world.owner,
            engagement=engagement,
            days=Decimal(10),
            amount=None,
            reason="Signed",
        )
        time_entry_log(
            membership=world.owner,
            engagement=engagement,
            item=EntryInput(person=world.member.user, date=today, minutes=480 * 2),
        )
        problem_raise(
            membership=world.client_contact,
            engagement=engagement,
            title="Late data",
            severity="low",
        )
        commitment_create(
            membership=world.owner,
            engagement=engagement,
            side="provider",
            owner=world.member.user,
            text=f"Deliver part {i}",
            due_date=today + timedelta(days=3 + i),
        )


def test_glance_figures_match_what_was_recorded(world: World) -> None:
    _busy(world, 1)
    trust_refresh_all.call()
    engagement = world.engagement.__class__.objects.get(title="Busy 0")
    figures = glance(fetched_by=world.client_contact, engagements=[engagement])[engagement.pk]
    assert figures.percent == 20
    assert figures.status in {"under", "on", "at_risk", "over"}
    # The same figures as the consumption page's, from the same ledgered rollups.
    page = consumption_summary(fetched_by=world.client_contact, engagement=engagement)
    assert (figures.status, figures.summary.consumed_minutes, figures.summary.budget_minutes) == (
        page.status,
        page.consumed_minutes,
        page.budget_minutes,
    )
    assert figures.open_problems == 1
    assert figures.next_commitment is not None
    assert figures.next_commitment.text == "Deliver part 0"
    assert figures.trust is not None
    assert figures.trust.low <= figures.trust.projected <= figures.trust.high


def test_no_budget_no_problem_nothing_due_says_so(world: World) -> None:
    figures = glance(fetched_by=world.owner, engagements=[world.engagement])[world.engagement.pk]
    assert figures.percent is None and figures.status == "unknown"
    assert figures.open_problems == 0 and figures.next_commitment is None


def test_overdue_commitments_are_counted(world: World) -> None:
    commitment_create(
        membership=world.owner,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="Old promise",
        due_date=date(2026, 9, 15),
    )
    for text, due in (("Later promise", date(2026, 9, 20)), ("Future promise", date(2026, 11, 1))):
        commitment_create(
            membership=world.owner,
            engagement=world.engagement,
            side="provider",
            owner=world.member.user,
            text=text,
            due_date=due,
        )
    both = glance(
        fetched_by=world.owner,
        engagements=[world.engagement, world.engagement_b],
        today=date(2026, 10, 1),
    )
    figures = both[world.engagement.pk]
    assert figures.overdue_commitments == 2
    assert figures.next_commitment.text == "Old promise"  # type: ignore[union-attr]
    assert both[world.engagement_b.pk].overdue_commitments == 0


def _queries(http, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = http.get(url)
    assert response.status_code == 200
    return len(captured)


def test_engagement_list_query_count_does_not_grow_with_rows(world: World, login) -> None:
    http = login("member")
    url = reverse("engagement-list", kwargs={"ws": world.workspace.slug})
    _busy(world, 2)
    few = _queries(http, url)
    _busy(world, 6)
    many = _queries(http, url)
    assert many == few
    page = http.get(url).content.decode()
    assert "Busy 5" in page and "20 %" in page and "1 open" in page


def test_client_page_query_count_does_not_grow_with_rows(world: World, login) -> None:
    http = login("client_contact")
    url = reverse("client-detail", kwargs={"ws": world.workspace.slug, "pk": world.client_a.pk})
    _busy(world, 2)
    few = _queries(http, url)
    _busy(world, 6)
    many = _queries(http, url)
    assert many == few
    page = http.get(url).content.decode()
    assert "Deliver part 5" in page, "the client sees commitments due on its engagements"


def test_the_clients_own_overview_shows_each_engagements_four_figures(world: World, login) -> None:
    """Issue 10, part 6: one page for a client contact (its "Overview", also its engagement
    list) with each of its engagements' consumption, trust band, open problems and commitment
    due; another client's engagements are not there."""
    _busy(world, 2)
    trust_refresh_all.call()
    http = login("client_contact")
    for name, kwargs in (
        ("client-detail", {"ws": world.workspace.slug, "pk": world.client_a.pk}),
        ("engagement-list", {"ws": world.workspace.slug}),
    ):
        page = http.get(reverse(name, kwargs=kwargs)).content.decode()
        for i in range(2):
            row = page[page.index(f">Busy {i}</a>") :]
            row = row[: row.index("</tr>")]
            assert "20 %" in row and "pill-trust-" in row, (name, "consumed and trust band")
            assert "1 open" in row and f"Deliver part {i}" in row, (name, "problems and due")
        assert "Beta audit" not in page


def test_the_overview_says_by_how_much_the_forecast_exceeds_the_budget(world: World, login):
    """Issue 10, parts 1 and 6: "forecast over budget" with the figure that matters, by how
    many days, on the client's overview and list, in the reader's language."""
    from confiance.consumption.services import remaining_estimate_set

    _busy(world, 2)
    late = world.engagement.__class__.objects.get(title="Busy 0")
    remaining_estimate_set(membership=world.member, engagement=late, remaining_minutes=480 * 10)
    http = login("client_contact")
    url = reverse("client-detail", kwargs={"ws": world.workspace.slug, "pk": world.client_a.pk})
    page = http.get(url).content.decode()
    row = page[page.index(">Busy 0</a>") :]
    row = row[: row.index("</tr>")]
    assert "Forecast over budget" in row
    assert 'title="The forecast exceeds the budget by 2.0 days">+2.0 d</small>' in row
    other = page[page.index(">Busy 1</a>") :]
    assert "+" not in other[: other.index("</tr>")], "on budget: no overshoot"
    http.cookies["django_language"] = "fr"
    assert ">+2,0 j</small>" in http.get(url).content.decode()


def test_engagement_page_says_where_we_are_and_has_a_clean_title(world: World, login) -> None:
    _busy(world, 1)
    engagement = world.engagement.__class__.objects.get(title="Busy 0")
    url = reverse("engagement-detail", kwargs={"ws": world.workspace.slug, "pk": engagement.pk})
    html = login("owner").get(url).content.decode()
    title = html[html.index("<title>") + 7 : html.index("</title>")]
    assert title.strip() == "Busy 0 · Confiance", "no status form in the title"
    assert "Where we are" in html and "20 %" in html and "Deliver part 0" in html


def test_the_trust_band_is_the_portfolios_figure_of_the_minute_and_follows_each_fact(
    world: World,
) -> None:
    # The glance weighs the trust summaries at the start of the minute, as the trust portfolio
    # does: both pages give one engagement the same figure, and a fact recorded within the
    # minute shows at once on both, never a figure kept from before it.
    import time_machine

    from confiance.trust import indicators, selectors
    from confiance.trust.services import trust_record_fact
    from confiance.trust.summaries import microseconds

    def record(n: int, positive: float, negative: float) -> None:
        trust_record_fact(
            engagement=world.engagement,
            fact=indicators.Fact(
                "provider_commitment_kept", at, positive, negative, "kept", "", "t", str(n)
            ),
        )

    minute = timezone.now().replace(second=0, microsecond=0)
    at = minute - timedelta(days=3)
    record(1, 2.0, 0.0)

    def both() -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
        band = glance(fetched_by=world.owner, engagements=[world.engagement])[
            world.engagement.pk
        ].trust
        assert band is not None
        ranked = {
            r.pk: r for r in selectors.trust_portfolio_ranking(fetched_by=world.owner, now=minute)
        }
        figure, _p2c = ranked[world.engagement.pk].weighed.figures
        return (band.projected, band.low, band.high, band.uncertainty), (
            figure.projected,
            figure.low,
            figure.high,
            figure.uncertainty,
        )

    with time_machine.travel(minute + timedelta(seconds=20), tick=False):
        # The glance alone weighs the engagement at the start of the minute, not at this
        # moment: what it kept for that instant is the very object the portfolio then ranks by.
        selectors._weighed.clear()
        glance(fetched_by=world.owner, engagements=[world.engagement])
        (kept,) = selectors._weighed[microseconds(minute)].values()
        ranking = selectors.trust_portfolio_ranking(fetched_by=world.owner, now=minute)
        assert next(r for r in ranking if r.pk == world.engagement.pk).weighed is kept
        listed, ranked = both()
        assert listed == ranked
        record(2, 0.0, 6.0)
        again_listed, again_ranked = both()
    assert again_listed == again_ranked
    assert again_listed[0] < listed[0]  # the broken commitment lowers trust at once
