"""The consumption page read right: one forecast drives the status and says why, one colour a
meaning, hours and days with one decimal, money grouped per language, nothing for a missing
rate, labels beside their own fields, and a closed engagement read, not written."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from confiance.consumption import services
from confiance.consumption.services import EntryInput
from confiance.engagements.models import EngagementStatus
from tests.conftest import World


def _url(world: World, name: str = "consumption") -> str:
    return reverse(name, kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})


def _budget(world: World, days: str, amount: str | None = None) -> None:
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal(days),
        amount=Decimal(amount) if amount else None,
        reason="Signed",
    )


def _log(world: World, minutes: int, day: date | None = None) -> None:
    services.time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(
            person=world.member.user,
            date=day or timezone.localdate() - timedelta(days=1),
            minutes=minutes,
        ),
    )


def _status_card(html: str) -> str:
    return html[html.index("status-card") : html.index("figures-source")]


def test_a_forecast_over_budget_at_35_percent_is_amber_not_red_and_says_why(
    world: World, login
) -> None:
    _budget(world, "10")
    for _ in range(4):
        _log(world, 420)  # 3.5 days of 10: 35 %
    services.remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=8 * 480
    )
    html = login("client_contact").get(_url(world)).content.decode()
    card = _status_card(html)
    assert "budget-at_risk" in card and "Forecast over budget" in card
    assert "Over budget" not in card
    assert "From the team's forecast at completion (115 % of the budget)" in card
    # The pace is shown beside it as a cross-check, not as a second status.
    assert 'data-testid="cross-check"' in html


def test_on_budget_is_not_amber_and_over_is_red_only_once_consumed(world: World, login) -> None:
    _budget(world, "1")
    _log(world, 470)
    services.remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=0
    )
    html = login("owner").get(_url(world)).content.decode()
    assert "budget-on" in _status_card(html) and "On budget" in _status_card(html)
    _log(world, 60)
    card = _status_card(login("owner").get(_url(world)).content.decode())
    assert "budget-over" in card and "More than the budget is already consumed." in card


def test_hours_and_days_with_one_decimal(world: World, login) -> None:
    _budget(world, "12.25")
    _log(world, 210)
    html = login("client_contact").get(_url(world)).content.decode()
    assert "3.5\u00a0h" in html  # by person, by activity, the entry itself
    assert ">12.2 days<" in html or ">12.3 days<" in html
    assert ">0.4 days<" in html


def test_money_is_grouped_per_language_and_a_missing_rate_shows_nothing(
    world: World, login
) -> None:
    _budget(world, "60", "57000")
    _log(world, 480)
    http = login("owner")
    html = http.get(_url(world)).content.decode()
    assert "€57,000.00" in html
    assert "0 EUR" not in html and "€0.00" not in html  # no rate: no amount at all
    http.cookies["django_language"] = "fr"
    html = http.get(_url(world), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "57\u202f000,00\u00a0€" in html
    assert "1,0\u00a0jours" in html or "1,0 jours" in html
    services.rate_set(
        membership=world.owner,
        engagement=world.engagement,
        daily_rate=Decimal("950"),
        user=world.member.user,
    )
    html = http.get(_url(world), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "950,00\u00a0€" in html


def test_the_withdraw_box_is_inside_its_own_label(world: World, login) -> None:
    _log(world, 60)
    entry = world.engagement.entries.get()
    html = (
        login("member")
        .get(
            reverse(
                "entry-correct",
                kwargs={
                    "ws": world.workspace.slug,
                    "pk": world.engagement.pk,
                    "entry_id": entry.pk,
                },
            )
        )
        .content.decode()
    )
    assert re.search(
        r'<label class="checkbox-label" for="id_withdraw"><input type="checkbox"[^>]*> '
        r"Withdraw the entry \(no replacement\)</label>",
        html,
    )
    assert re.search(r'<label for="id_reason">Why this correction', html)


def test_a_closed_engagement_shows_no_write_form_and_its_whole_history(world: World, login) -> None:
    _budget(world, "10")
    start = world.engagement.start_date
    _log(world, 240, day=start + timedelta(days=1))
    _log(world, 240, day=start + timedelta(days=40))
    world.engagement.status = EngagementStatus.CLOSED
    world.engagement.save(update_fields=["status"])
    response = login("owner").get(_url(world))
    html = response.content.decode()
    for name in ("entry-log", "budget-revise", "estimate-set", "import-upload"):
        assert _url(world, name) not in html
    chart = response.context["chart"]
    assert chart["labels"][0] <= start.isoformat() and len(chart["labels"]) >= 6
    assert chart["actual"][-1] == 1.0 and not any(chart["forecast"])
