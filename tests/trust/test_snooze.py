"""A snooze that means something: no notice until it ends unless the alert gets worse, and a
snoozed alert waits behind the others in the portfolio, saying until when and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from confiance.core.models import Notice
from confiance.followup.services import payment_create, payment_mark_paid
from confiance.trust.actions import trust_alert_snooze
from confiance.trust.models import TrustAlert
from confiance.trust.selectors import trust_portfolio
from confiance.trust.services import trust_check_alerts
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _unpaid(world: World, label: str, days_late: int) -> object:
    today = timezone.localdate()
    return payment_create(
        membership=world.finance,
        engagement=world.engagement,
        kind="invoice",
        label=label,
        amount=Decimal("1000"),
        issue_date=today - timedelta(days=days_late + 30),
        due_date=today - timedelta(days=days_late),
    )


def _payment_alert(world: World, engagement: object, **fields: object) -> TrustAlert:
    """An open alert of an unpaid payment on the engagement, as the check opens it."""
    return TrustAlert.objects.create(
        workspace=world.workspace,
        engagement=engagement,
        kind="payment_overdue",
        direction="p2c",
        reason="%(n)s payment(s) unpaid past their due date, the oldest for %(days)s days.",
        reason_params={"n": 1, "days": 10},
        who_should_act="Olivia Owner",
        **fields,
    )


def _check(world: World, capture, now=None) -> list[str]:  # type: ignore[no-untyped-def]
    """Run the alert check as the schedule does; the trust-alert notices it sent (their 'again')."""
    before = set(Notice.objects.filter(kind="trust.alert").values_list("pk", flat=True))
    with capture(execute=True):
        trust_check_alerts(engagement=world.engagement, now=now)
    sent = Notice.objects.filter(kind="trust.alert").exclude(pk__in=before)
    return sorted({n.params.get("again") or "opened" for n in sent})


def _snoozed_alert(world: World, capture, days: int = 7) -> TrustAlert:  # type: ignore[no-untyped-def]
    _unpaid(world, "Invoice 1", 10)
    assert _check(world, capture) == ["opened"]
    alert = TrustAlert.objects.get(kind="payment_overdue", closed_at__isnull=True)
    return trust_alert_snooze(
        membership=world.owner, alert_id=alert.pk, days=days, reason="Client's accountant is away"
    )


def test_a_snoozed_alert_is_not_told_again_until_its_snooze_ends(
    world: World, django_capture_on_commit_callbacks
) -> None:
    alert = _snoozed_alert(world, django_capture_on_commit_callbacks, days=7)
    now = timezone.now()
    for day in (1, 3, 6):
        assert _check(world, django_capture_on_commit_callbacks, now + timedelta(days=day)) == []
    # The snooze is over and the cause still holds: told once more, then not every hour.
    later = now + timedelta(days=7, hours=1)
    assert _check(world, django_capture_on_commit_callbacks, later) == ["snooze_over"]
    assert _check(world, django_capture_on_commit_callbacks, later + timedelta(hours=1)) == []
    alert.refresh_from_db()
    assert not alert.snoozed(later) and alert.snooze_reason == "Client's accountant is away"


def test_a_snoozed_alert_that_gets_worse_is_told_at_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    alert = _snoozed_alert(world, django_capture_on_commit_callbacks)
    # The days of waiting grow by themselves: not worse. A second payment overdue is.
    assert _check(world, django_capture_on_commit_callbacks) == []
    _unpaid(world, "Invoice 2", 8)
    assert _check(world, django_capture_on_commit_callbacks) == ["worse"]
    alert.refresh_from_db()
    assert alert.snoozed_until is None and alert.reason_params["n"] == 2
    notice = Notice.objects.filter(kind="trust.alert").latest("pk")
    from confiance.core.notices import render_notice

    assert render_notice(notice.kind, notice.params).startswith("Worse while snoozed:")


def test_an_alert_that_goes_and_comes_back_within_the_snooze_keeps_it(
    world: World, django_capture_on_commit_callbacks
) -> None:
    first = _snoozed_alert(world, django_capture_on_commit_callbacks)
    payment = first.engagement.payments.get(label="Invoice 1")
    payment_mark_paid(membership=world.finance, payment=payment, paid_date=timezone.localdate())
    assert _check(world, django_capture_on_commit_callbacks) == []
    first.refresh_from_db()
    assert first.outcome == "cause_gone"
    _unpaid(world, "Invoice 3", 9)  # one payment overdue again: no worse than when snoozed
    assert _check(world, django_capture_on_commit_callbacks) == []
    again = TrustAlert.objects.get(kind="payment_overdue", closed_at__isnull=True)
    assert again.pk != first.pk and again.snoozed()
    assert again.snooze_reason == "Client's accountant is away"


def test_snoozed_alerts_wait_behind_the_others_in_the_portfolio(
    world: World, django_capture_on_commit_callbacks, login
) -> None:
    _snoozed_alert(world, django_capture_on_commit_callbacks)
    # Another engagement, same figures, with its alert not snoozed: it is riskier.
    _payment_alert(world, world.engagement_b)
    # And on the first engagement, a second alert, not snoozed, listed before the snoozed one.
    TrustAlert.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        kind="commitment_overdue",
        direction="c2p",
        reason="%(n)s commitment(s) of ours past their due date.",
        reason_params={"n": 1},
        who_should_act="Olivia Owner",
    )
    rows = {row.engagement.pk: row for row in trust_portfolio(fetched_by=world.owner)}
    mine = rows[world.engagement.pk]
    assert [a.kind for a in mine.alerts] == ["commitment_overdue", "payment_overdue"]
    assert mine.alerts[-1].snoozed() and not mine.alerts[0].snoozed()
    page = login("owner").get(reverse("trust-portfolio", kwargs={"ws": world.workspace.slug}))
    text = page.content.decode()
    assert "snoozed until" in text and "Client&#x27;s accountant is away" in text
    http = login("owner")
    http.post(reverse("set_language"), {"language": "fr", "next": "/"})
    french = http.get(reverse("trust-portfolio", kwargs={"ws": world.workspace.slug}))
    assert "en attente jusqu\u2019au" in french.content.decode()


@pytest.mark.django_db
def test_alerts_opened_at_one_moment_keep_one_order_whatever_order_they_were_stored_in(
    world: World,
) -> None:
    # One refresh opens several alerts at one moment; a restore may store them in another order.
    # The trust page and the portfolio list them newest first, then by number (a crawl of the
    # restored installation once found another alert's link first).
    at = timezone.now() - timedelta(hours=1)
    for pk, kind in [(902, "commitment_overdue"), (901, "payment_overdue"), (903, "drop")]:
        TrustAlert.objects.create(
            pk=pk,
            workspace=world.workspace,
            engagement=world.engagement,
            kind=kind,
            direction="c2p",
            reason="%(n)s commitment(s) of ours past their due date.",
            reason_params={"n": 1},
            who_should_act="Olivia Owner",
            opened_at=at,
        )
    from confiance.trust.selectors import engagement_trust

    trust = engagement_trust(engagement=world.engagement, fetched_by=world.owner)
    shown = [a.pk for d in trust.directions for a in d.alerts]
    assert shown == [903, 902, 901]
    rows = {row.engagement.pk: row for row in trust_portfolio(fetched_by=world.owner)}
    assert [a.pk for a in rows[world.engagement.pk].alerts] == [901, 902, 903]


def _snoozed_to_the_half_minute(world: World) -> datetime:
    """An alert snoozed until half a minute past a minute of tomorrow; that minute."""
    minute = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    _payment_alert(
        world,
        world.engagement,
        snoozed_until=minute + timedelta(seconds=30),
        snooze_reason="Away until the half-minute",
    )
    return minute


def _within_and_after_the_minute(world: World, login, target: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The owner's page `target`, in English, 42 s into the minute of a snooze that ends at
    its half (still on as of the minute), then in the next minute (over)."""
    import time_machine

    minute = _snoozed_to_the_half_minute(world)
    http = login("owner")
    texts = []
    for moment in (timedelta(seconds=42), timedelta(minutes=1, seconds=5)):
        with time_machine.travel(minute + moment, tick=False):
            texts.append(http.get(target, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    return texts[0], texts[1]


@pytest.mark.django_db
def test_the_portfolio_shows_a_snooze_as_of_the_minute_it_ranks_at(world: World, login) -> None:  # type: ignore[no-untyped-def]
    # Its figures are of the start of the minute: a snooze ending within the minute is still on
    # in the risk, in the alerts' order and in the words shown, all three.
    within, after = _within_and_after_the_minute(
        world, login, reverse("trust-portfolio", kwargs={"ws": world.workspace.slug})
    )
    assert "snoozed until" in within and "Away until the half-minute" in within
    assert "Payment overdue" in after and "Away until the half-minute" not in after


@pytest.mark.django_db
def test_the_engagement_page_shows_a_snooze_as_of_its_minute(world: World, login) -> None:  # type: ignore[no-untyped-def]
    # The engagement's own trust page is of the start of the minute too: the snooze's words
    # and the alerts' order agree with the figures' moment.
    within, after = _within_and_after_the_minute(
        world,
        login,
        reverse("trust", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}),
    )
    assert "Snoozed until" in within and "Away until the half-minute" in within
    assert "Away until the half-minute" not in after
