"""Bounded inputs: each value past what makes business sense is a field error from the service
(so pages, the API and imports obey), and out-of-range ids or offsets are 4xx, never a 500."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient
from django.utils import timezone

from confiance.consumption import services as consumption
from confiance.core import limits
from confiance.core.services import api_token_create, workspace_update
from confiance.engagements.models import ContactOrigin
from confiance.engagements.services import engagement_create
from confiance.followup import services as followup
from tests.conftest import World

BIG = Decimal(10) ** 20


def field_error(call, field: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as raised:
        call()
    assert field in raised.value.message_dict, raised.value.message_dict
    return " ".join(raised.value.message_dict[field])


def test_a_payment_of_ten_to_the_twentieth_is_refused(world: World) -> None:
    def pay(amount: Decimal, due: date = date(2026, 10, 31)):  # type: ignore[no-untyped-def]
        return lambda: followup.payment_create(
            membership=world.owner,
            engagement=world.engagement,
            kind="deposit",
            label="Deposit",
            amount=amount,
            issue_date=date(2026, 10, 1),
            due_date=due,
        )

    assert "999,999,999,999.99" in field_error(pay(BIG), "amount")
    assert "two decimal places" in field_error(pay(Decimal("10.001")), "amount")
    field_error(pay(Decimal("NaN")), "amount")
    assert "between" in field_error(pay(Decimal(100), date(9999, 12, 31)), "due_date")
    assert pay(limits.MAX_AMOUNT)().amount == limits.MAX_AMOUNT  # the limit itself is fine


def test_a_daily_rate_and_budget_past_their_limits_are_refused(world: World) -> None:
    field_error(
        lambda: consumption.rate_set(
            membership=world.owner, engagement=world.engagement, daily_rate=BIG, title="Dev"
        ),
        "daily_rate",
    )
    for days, amount, field in [(BIG, None, "days"), (None, BIG, "amount")]:
        field_error(
            lambda d=days, a=amount: consumption.budget_revise(
                membership=world.owner, engagement=world.engagement, days=d, amount=a, reason="x"
            ),
            field,
        )
    field_error(
        lambda: consumption.remaining_estimate_set(
            membership=world.owner, engagement=world.engagement, remaining_minutes=10**12
        ),
        "remaining_minutes",
    )


def test_late_logging_days_are_bounded(world: World) -> None:
    field_error(
        lambda: workspace_update(membership=world.owner, late_logging_days=10**20),
        "late_logging_days",
    )
    assert workspace_update(membership=world.owner, late_logging_days=365).late_logging_days == 365


def test_a_time_entry_dated_0001_01_01_is_refused_with_the_engagements_window(
    world: World,
) -> None:
    def log(day: date, note: str = ""):  # type: ignore[no-untyped-def]
        return lambda: consumption.time_entry_log(
            membership=world.owner,
            engagement=world.engagement,
            item=consumption.EntryInput(
                person=world.owner.user, date=day, minutes=60, shared_note=note
            ),
        )

    message = field_error(log(date(1, 1, 1)), "date")
    low, _high = limits.window(world.engagement.start_date, world.engagement.end_date)
    assert low.isoformat() in message
    assert "at most 5000 characters" in field_error(
        log(date(2026, 10, 1), "x" * 5001), "shared_note"
    )
    assert log(low)().date == low


def test_meetings_and_commitments_in_the_year_9999_are_refused(world: World) -> None:
    far = timezone.make_aware(datetime(9999, 12, 31, 10))
    field_error(
        lambda: followup.meeting_create(
            membership=world.owner,
            engagement=world.engagement,
            title="Kick-off",
            starts_at=far,
            duration_minutes=60,
            channel="video",
            attendees=[world.owner.user],
        ),
        "starts_at",
    )
    field_error(
        lambda: followup.meeting_create(
            membership=world.owner,
            engagement=world.engagement,
            title="Kick-off",
            starts_at=far.replace(year=2026),
            duration_minutes=3 * 24 * 60,
            channel="video",
            attendees=[world.owner.user],
        ),
        "duration_minutes",
    )
    field_error(
        lambda: followup.commitment_create(
            membership=world.owner,
            engagement=world.engagement,
            side="provider",
            owner=world.owner.user,
            text="Deliver",
            due_date=date(9999, 12, 31),
        ),
        "due_date",
    )


def test_engagement_dates_stay_within_fifty_years(world: World) -> None:
    field_error(
        lambda: engagement_create(
            membership=world.owner,
            client=world.client_a,
            title="Far",
            contact_origin=ContactOrigin.CHANCE,
            start_date=date(1, 1, 1),
            end_date=timezone.localdate() + timedelta(days=30),
        ),
        "start_date",
    )


def test_a_twenty_digit_id_in_a_url_is_not_found(world: World, login) -> None:
    http = login("owner")
    for url in [
        "/w/provider/engagements/99999999999999999999/",
        "/w/provider/tokens/99999999999999999999/revoke/",
    ]:
        assert http.get(url).status_code == 404


def test_the_api_answers_json_4xx_to_huge_ids(world: World) -> None:
    _, token = api_token_create(membership=world.owner, name="t")
    headers = {"Authorization": f"Bearer {token}"}
    response = HttpClient().get("/api/v1/engagements/99999999999999999999", headers=headers)
    assert 400 <= response.status_code < 500, response.status_code
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json() and "code" in response.json()
    # As a filter, such an id matches nothing (PostgreSQL) or is refused (SQLite): never a 500.
    response = HttpClient().get(
        "/api/v1/engagements?client_id=99999999999999999999", headers=headers
    )
    assert response.status_code in (200, 400) and response["Content-Type"].startswith(
        "application/json"
    )
    assert response.status_code == 400 or not response.json().get(
        "results", response.json().get("items")
    )
