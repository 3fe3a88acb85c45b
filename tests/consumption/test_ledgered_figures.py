"""The figures are the ledger's: folded from ledgered facts, parameters included, reconciled.

A dishonest change of a table row (an entry's minutes, a rollup, the minutes per day, an
activity's name, a rate) does not move what the page shows silently: the reconciliation finds
it, the page says so, and `confiance ledger-audit` exits 1.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from confiance.consumption import selectors, services
from confiance.consumption.audit import ledger_audit
from confiance.consumption.figures import Figures
from confiance.consumption.models import Activity, ConsumptionRollup, ConsumptionTotals, TimeEntry
from confiance.consumption.rollups import figures_load
from confiance.consumption.services import EntryInput
from confiance.core.models import Workspace
from confiance.core.services import workspace_update
from confiance.engagements.models import EngagementStatus
from confiance.ledger.models import LedgerEntry
from tests.conftest import World


def _log(world: World, minutes: int, days_ago: int = 0, **kwargs) -> TimeEntry:
    return services.time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(
            person=world.member.user,
            date=timezone.localdate() - timedelta(days=days_ago),
            minutes=minutes,
            **kwargs,
        ),
    )


def _history(world: World) -> None:
    """Every kind of consumption fact: activity, rate, team, budget, entries, correction."""
    analysis = services.activity_create(
        membership=world.owner, engagement=world.engagement, name="Analysis"
    )
    services.team_member_set(
        membership=world.owner, engagement=world.engagement, user=world.member.user, title="Lead"
    )
    services.rate_set(
        membership=world.owner, engagement=world.engagement, daily_rate=Decimal("950"), title="Lead"
    )
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("10"),
        amount=Decimal("9500"),
        reason="Signed",
    )
    first = _log(world, 240, days_ago=3, activity=analysis)
    _log(world, 210, days_ago=1)
    services.time_entry_correct(
        membership=world.member,
        entry=first,
        reason="Typo",
        replacement=EntryInput(person=world.member.user, date=first.date, minutes=180),
    )
    services.remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=960
    )


def _fold_ledger(world: World) -> Figures:
    """The fold of the ledger's leaves, sealed fields opened (as the reconciliation does)."""
    from confiance.consumption.audit import _leaves

    figures = Figures()
    for index, kind, leaf in _leaves(world.engagement):
        figures.fold(index, kind, leaf)
    return figures


def _summary(world: World, persona: str = "client_contact") -> selectors.ConsumptionSummary:
    return selectors.consumption_summary(
        fetched_by=getattr(world, persona), engagement=world.engagement
    )


def test_rollups_equal_the_fold_of_the_ledger_and_the_audit_agrees(world: World) -> None:
    _history(world)
    stored, ledger = figures_load(engagement=world.engagement), _fold_ledger(world)
    assert stored.consumed_minutes == ledger.consumed_minutes == 180 + 210
    assert stored.cells == {k: v for k, v in ledger.cells.items() if v.minutes or v.entries}
    assert (stored.budget_days, stored.minutes_per_day, stored.estimate_minutes) == (
        Decimal("10"),
        480,
        960,
    )
    assert stored.rate_of(world.member.user.email) == Decimal("950")
    (report,) = ledger_audit(engagements=[world.engagement])
    assert report.ok, report.findings
    summary = _summary(world, "owner")
    assert summary.figures_size == LedgerEntry.objects.filter(engagement=world.engagement).count()
    assert summary.consumed_amount == (Decimal("950") * 390 / 480).quantize(Decimal("0.01"))


def test_changing_minutes_per_day_in_settings_appends_to_each_open_engagements_ledger(
    world: World,
) -> None:
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("10"),
        amount=None,
        reason="Signed",
    )
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement_b,
        days=Decimal("10"),
        amount=None,
        reason="Signed",
    )
    world.engagement_b.status = EngagementStatus.CLOSED
    world.engagement_b.save(update_fields=["status"])
    workspace_update(membership=world.owner, minutes_per_day=420)
    last = LedgerEntry.objects.filter(engagement=world.engagement).order_by("-index").first()
    assert (last.kind, json.loads(last.data)["value"]) == ("parameter.set", 420)
    assert _summary(world).budget_minutes == 4200
    # The closed engagement keeps the value ledgered for it: its figures do not move.
    assert not LedgerEntry.objects.filter(
        engagement=world.engagement_b, kind="parameter.set", data__contains="420"
    ).exists()
    closed = selectors.consumption_summary(fetched_by=world.owner, engagement=world.engagement_b)
    assert closed.budget_minutes == 4800
    assert all(r.ok for r in ledger_audit(workspace=world.workspace))


def test_an_entry_changed_in_the_database_is_found_and_does_not_move_the_figures(
    world: World, login
) -> None:
    _history(world)
    entry = TimeEntry.objects.filter(engagement=world.engagement, kind="original").last()
    TimeEntry.objects.filter(pk=entry.pk).update(minutes=entry.minutes + 150)
    assert _summary(world).consumed_minutes == 390  # the figures stay the ledger's
    (report,) = ledger_audit(engagements=[world.engagement])
    assert {"code": "entry_changed", "field": "minutes", "entry": entry.pk}.items() <= {
        **report.findings[0]
    }.items()
    page = login("client_contact").get(
        reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    )
    html = page.content.decode()
    assert "Rows differ from the ledger" in html
    assert f"Time entry #{entry.pk}: its minutes is {entry.minutes + 150}" in html
    assert "data-audit-failed" in html


def test_a_figure_changed_in_the_database_is_found(world: World) -> None:
    _history(world)
    ConsumptionTotals.objects.filter(engagement=world.engagement).update(consumed_minutes=9999)
    ConsumptionRollup.objects.filter(engagement=world.engagement, dimension="person").update(
        minutes=1
    )
    (report,) = ledger_audit(engagements=[world.engagement])
    figures = {f["figure"] for f in report.findings if f["code"] == "rollup_differs"}
    assert "consumed_minutes" in figures
    assert f"person:{world.member.user.email}" in figures


def test_parameters_changed_outside_the_ledger_are_found(world: World) -> None:
    _history(world)
    Workspace.objects.filter(pk=world.workspace.pk).update(minutes_per_day=600)
    Activity.objects.filter(engagement=world.engagement).update(name="Renamed quietly")
    world.engagement.rates.update(daily_rate=Decimal("1200"))
    world.engagement.workspace.refresh_from_db()
    # The page keeps the ledgered 480 minutes a day: 10 days stay 4,800 minutes.
    assert _summary(world).budget_minutes == 4800
    (report,) = ledger_audit(engagements=[world.engagement])
    codes = {f["code"] for f in report.findings}
    assert {"minutes_per_day_changed", "activity_renamed", "rate_changed"} <= codes
    # The client is told a rate differs, never which rate nor its value.
    messages = selectors.audit_messages(world.engagement.ledger_audit, show_amounts=False)
    assert not any("1200" in m or "950" in m for m in messages)


def test_ledger_audit_command_exits_1_and_names_the_difference(world: World, capsys) -> None:
    _history(world)
    call_command("ledger-audit", "--engagement", str(world.engagement.pk))
    assert "0 with differences" in capsys.readouterr().out
    TimeEntry.objects.filter(engagement=world.engagement).update(date="2026-01-01")
    with pytest.raises(SystemExit) as exit_:
        call_command("ledger-audit", "--workspace", world.workspace.slug)
    assert exit_.value.code == 1
    assert "entry_changed" in capsys.readouterr().out


def test_the_page_says_at_which_tree_size_its_figures_were_computed(world: World, login) -> None:
    _history(world)
    size = LedgerEntry.objects.filter(engagement=world.engagement).count()
    html = (
        login("client_contact")
        .get(reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}))
        .content.decode()
    )
    assert f"(tree size {size})" in html
    assert f'data-size="{size}"' in html and 'data-consumed-minutes="390"' in html


def test_leaves_come_as_stored_and_bounded(world: World, login) -> None:
    _history(world)
    url = reverse(
        "consumption-leaves", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk}
    )
    http = login("client_contact")
    answer = http.get(url, {"start": 1, "end": 3}).json()
    stored = dict(
        LedgerEntry.objects.filter(engagement=world.engagement).values_list("index", "data")
    )
    assert answer["entries"] == [[1, stored[1]], [2, stored[2]]]
    assert http.get(url, {"start": 0, "end": 10**6}).status_code == 400
    assert http.get(url, {"start": "x"}).status_code == 400


def _page_queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert http.get(url).status_code == 200
    return len(queries)


def test_consumption_page_queries_do_not_grow_with_the_entries(world: World, login) -> None:
    _history(world)
    url = reverse("consumption", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    http = login("owner")
    few = _page_queries(http, url)
    other = services.activity_create(
        membership=world.owner, engagement=world.engagement, name="Workshops"
    )
    services.time_entries_log(
        membership=world.owner,
        engagement=world.engagement,
        items=[
            EntryInput(
                person=world.owner.user if i % 2 else world.member.user,
                date=timezone.localdate() - timedelta(days=i % 40),
                minutes=30 + i,
                activity=other if i % 3 else None,
            )
            for i in range(300)
        ],
    )
    assert _page_queries(http, url) == few


def test_logging_reads_the_running_totals_not_a_sum_of_the_entries(world: World) -> None:
    _history(world)
    with CaptureQueriesContext(connection) as queries:
        _log(world, 60)
    assert not any('SUM("consumption_timeentry"' in q["sql"] for q in queries.captured_queries)
    assert not any("SUM(" in q["sql"] and "timeentry" in q["sql"] for q in queries)


def test_the_late_logging_threshold_is_a_ledger_fact(world: World) -> None:
    _log(world, 60, days_ago=5)
    _log(world, 60, days_ago=1)
    threshold = world.workspace.late_logging_days
    assert _summary(world).late_after_days == threshold
    workspace_update(membership=world.owner, late_logging_days=2)
    last = LedgerEntry.objects.filter(engagement=world.engagement).order_by("-index").first()
    leaf = json.loads(last.data)
    assert (last.kind, leaf["name"], leaf["value"]) == ("parameter.set", "late_logging_days", 2)
    summary = _summary(world)
    assert (summary.late_after_days, summary.late_entries) == (2, 1)
    assert all(r.ok for r in ledger_audit(workspace=world.workspace))
    # Changed behind the application's back: the page keeps the ledgered value, the audit
    # names the difference.
    Workspace.objects.filter(pk=world.workspace.pk).update(late_logging_days=30)
    world.engagement.workspace.refresh_from_db()
    assert _summary(world).late_entries == 1
    (report,) = ledger_audit(engagements=[world.engagement])
    assert "late_logging_days_changed" in {f["code"] for f in report.findings}


def test_both_sides_are_told_when_days_are_counted_differently(
    world: World, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal("10"),
        amount=None,
        reason="Signed",
    )
    contact = world.client_contact.user
    contact.language = "fr"
    contact.save(update_fields=["language"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workspace_update(membership=world.owner, minutes_per_day=420)
    (message,) = [m for m in mail.outbox if m.to == [contact.email]]
    assert "une journée compte désormais 420 minutes (c\u2019était 480)" in message.subject
    assert not [m for m in mail.outbox if m.to == [world.owner.user.email]]
