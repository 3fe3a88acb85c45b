"""Consumption rules: entries and corrections, budgets, forecasts, alerts, and who sees what."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.consumption import selectors, services
from confiance.consumption.models import BudgetAlert, EntryKind, TimeEntry
from confiance.consumption.services import EntryInput
from confiance.core.models import Notice, NoticeEmail
from confiance.ledger.models import LedgerEntry
from tests.closure.support import close_through_the_closure
from tests.conftest import World

DAY = 480


def log(world: World, minutes: int, day: date | None = None, **kwargs) -> TimeEntry:
    return services.time_entry_log(
        membership=world.member,
        engagement=world.engagement,
        item=EntryInput(
            person=world.member.user, date=day or timezone.localdate(), minutes=minutes, **kwargs
        ),
    )


def budget(world: World, days: str, amount: str | None = None) -> None:
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement,
        days=Decimal(days),
        amount=Decimal(amount) if amount else None,
        reason="Signed proposal",
    )


def test_entry_goes_into_the_ledger_without_its_internal_note(world: World) -> None:
    entry = log(world, 90, shared_note="Workshop", internal_note="SECRET-INTERNAL")
    leaf = LedgerEntry.objects.get(engagement=world.engagement, index=entry.ledger_index)
    assert leaf.kind == "time_entry"
    assert '"minutes":90' in leaf.data and "Workshop" in leaf.data
    assert "SECRET-INTERNAL" not in leaf.data


def test_correction_appends_reversal_and_replacement_and_keeps_the_original(world: World):
    entry = log(world, 120)
    reversal, replacement = services.time_entry_correct(
        membership=world.member,
        entry=entry,
        reason="Typed 2 h instead of 1 h 30",
        replacement=EntryInput(person=world.member.user, date=entry.date, minutes=90),
    )
    entry.refresh_from_db()
    assert entry.minutes == 120 and entry.kind == EntryKind.ORIGINAL
    assert (reversal.kind, reversal.minutes, reversal.corrects) == (EntryKind.REVERSAL, -120, entry)
    assert (replacement.kind, replacement.minutes, replacement.corrects) == (
        EntryKind.REPLACEMENT,
        90,
        entry,
    )
    summary = selectors.consumption_summary(
        fetched_by=world.client_contact, engagement=world.engagement
    )
    assert summary.consumed_minutes == 90
    kinds = list(
        LedgerEntry.objects.filter(engagement=world.engagement)
        .order_by("index")
        .values_list("kind", flat=True)
    )
    assert kinds == ["time_entry", "time_entry.correction", "time_entry.correction"]
    with pytest.raises(ValidationError):
        services.time_entry_correct(
            membership=world.member, entry=entry, reason="again", replacement=None
        )


def test_withdrawing_an_entry_needs_a_reason(world: World) -> None:
    entry = log(world, 60)
    with pytest.raises(ValidationError):
        services.time_entry_correct(
            membership=world.member, entry=entry, reason=" ", replacement=None
        )
    services.time_entry_correct(
        membership=world.member, entry=entry, reason="Wrong engagement", replacement=None
    )
    assert world.engagement.entries.count() == 2
    assert (
        selectors.consumption_summary(
            fetched_by=world.member, engagement=world.engagement
        ).consumed_minutes
        == 0
    )


def test_entries_are_validated(world: World) -> None:
    with pytest.raises(ValidationError):
        log(world, 0)
    with pytest.raises(ValidationError):
        log(world, 25 * 60)
    with pytest.raises(ValidationError):
        log(world, 60, day=timezone.localdate() + timedelta(days=5))
    assert not TimeEntry.objects.exists() and not LedgerEntry.objects.exists()


def test_who_may_log_time(world: World) -> None:
    for persona in ("client_contact", "expert", "finance"):
        with pytest.raises(PermissionDenied):
            services.time_entry_log(
                membership=getattr(world, persona),
                engagement=world.engagement,
                item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=30),
            )
    # A consultant logs for themselves, not for a colleague (unless lead or owner).
    with pytest.raises(PermissionDenied):
        services.time_entry_log(
            membership=world.member,
            engagement=world.engagement,
            item=EntryInput(person=world.owner.user, date=timezone.localdate(), minutes=30),
        )
    services.time_entry_log(
        membership=world.owner,
        engagement=world.engagement,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=30),
    )
    with pytest.raises(ValidationError):  # drafts take no time
        services.time_entry_log(
            membership=world.member,
            engagement=world.draft,
            item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=30),
        )


def test_budget_change_is_recorded_with_who_and_why(world: World) -> None:
    with pytest.raises(ValidationError):
        services.budget_revise(
            membership=world.owner,
            engagement=world.engagement,
            days=Decimal(10),
            amount=None,
            reason="",
        )
    with pytest.raises(PermissionDenied):
        services.budget_revise(
            membership=world.member,
            engagement=world.engagement,
            days=Decimal(10),
            amount=None,
            reason="x",
        )
    budget(world, "10", "9000")
    budget(world, "12", "10800")
    history = list(
        selectors.budget_history(fetched_by=world.client_contact, engagement=world.engagement)
    )
    assert [h.days for h in history] == [Decimal("12.00"), Decimal("10.00")]
    assert history[0].changed_by == world.owner.user and history[0].reason == "Signed proposal"
    assert LedgerEntry.objects.filter(kind="budget.revised").count() == 2


def test_a_budget_change_reaches_both_sides_with_the_figures_and_why(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: the client hears of a new budget at once, in its language, with what
    it was, what it is, what is consumed of it and why; amounts only where clients see them."""
    from confiance.core.services import user_language_set

    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    contact = world.client_contact.user
    user_language_set(user=contact, language="fr")
    with django_capture_on_commit_callbacks(execute=True):
        budget(world, "10", "9000")
        log(world, 3 * DAY)
    first = Notice.objects.get(user=contact, kind="budget.revised")
    assert first.text() == "Alpha migration: Olivia Owner set the budget at 10.0 days"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.budget_revise(
            membership=world.owner,
            engagement=world.engagement,
            days=Decimal(12),
            amount=Decimal(10800),
            reason="Second lot added",
        )
    (french,) = [m for m in mail.outbox if m.to == [contact.email]]
    assert "Olivia Owner a porté le budget à 12,0 jours (il était de 10,0)" in french.subject
    assert "Consommé à ce jour : 3,0 jours, 25 % du nouveau budget." in french.body
    assert "Pourquoi : Second lot added" in french.body
    assert "10800" not in french.body.replace("\u202f", "").replace(" ", ""), "no amounts"
    (english,) = [m for m in mail.outbox if m.to == [world.member.user.email]]
    assert "changed the budget to 12.0 days (it was 10.0)" in english.subject
    assert not [m for m in mail.outbox if m.to == [world.owner.user.email]], "not the author"
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()

    world.workspace.show_amounts_to_client = True
    world.workspace.save(update_fields=["show_amounts_to_client"])
    world.engagement.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        budget(world, "14", "12600")
    last = Notice.objects.filter(user=world.member.user, kind="budget.revised").latest("pk")
    from confiance.core.notices import render_details

    assert "Amount: 12,600.00 EUR (it was 10,800.00 EUR)." in render_details(last.kind, last.params)


def test_a_correction_is_told_to_both_sides_with_before_after_and_why(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Issue 10, part 1: time the client already read changes; the client hears it at once, in
    its language, with the hours before and after and the reason; a withdrawal says so."""
    from confiance.core.services import user_language_set

    world.engagement.lead = world.owner.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    entry = log(world, 120, day=date(2026, 10, 1))
    with django_capture_on_commit_callbacks(execute=True):
        (_, replacement) = services.time_entry_correct(
            membership=world.member,
            entry=entry,
            reason="Saisi 2 h au lieu de 1 h 30",
            replacement=EntryInput(person=world.member.user, date=entry.date, minutes=90),
        )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Mark Member a corrigé le temps de Mark Member du 1 oct. 2026" in sent.subject
    assert "2,0\xa0h → 1,5\xa0h" in sent.subject
    assert "Pourquoi : Saisi 2 h au lieu de 1 h 30" in sent.body
    with django_capture_on_commit_callbacks(execute=True):
        services.time_entry_correct(
            membership=world.member, entry=replacement, reason="Not ours", replacement=None
        )
    withdrawn = Notice.objects.filter(user=world.owner.user, kind="budget.corrected").latest("pk")
    assert "Mark Member withdrew 1.5\xa0h of Mark Member on 1 Oct. 2026" in withdrawn.text()
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()


def test_a_correction_that_moves_the_time_says_where_it_now_stands(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Time moved to another person and day: the client reads where it now stands, not the
    same person and day before and after."""
    from confiance.core.services import user_language_set

    user_language_set(user=world.client_contact.user, language="fr")
    entry = log(world, 120, day=date(2026, 10, 1))
    with django_capture_on_commit_callbacks(execute=True):
        services.time_entry_correct(
            membership=world.owner,
            entry=entry,
            reason="Logged for the wrong person",
            replacement=EntryInput(person=world.owner.user, date=date(2026, 10, 2), minutes=120),
        )
    (sent,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "Le temps est désormais compté pour Olivia Owner le 2 oct. 2026." in sent.body


def test_alerts_at_50_80_100_and_forecast_reach_both_sides_once(
    world: World, django_capture_on_commit_callbacks
) -> None:
    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    with django_capture_on_commit_callbacks(execute=True):
        budget(world, "2")  # 960 minutes
        log(world, 400)
    assert not BudgetAlert.objects.exists()
    mail.outbox.clear()  # the budget set, told to both sides
    with django_capture_on_commit_callbacks(execute=True):
        log(world, 100)  # 500 ≥ 50 %
    assert set(BudgetAlert.objects.values_list("level", flat=True)) == {"50"}
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([world.member.user.email, world.client_contact.user.email])
    assert Notice.objects.filter(user=world.client_contact.user, kind="budget.alert").count() == 1
    assert "50 %" in Notice.objects.get(user=world.member.user, kind="budget.alert").text()
    with django_capture_on_commit_callbacks(execute=True):
        log(world, 10)  # still above 50 %, below 80 %: nothing new
    assert BudgetAlert.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.remaining_estimate_set(
            membership=world.member, engagement=world.engagement, remaining_minutes=600
        )
    assert set(BudgetAlert.objects.values_list("level", flat=True)) == {"50", "forecast"}
    with django_capture_on_commit_callbacks(execute=True):
        log(world, 500)  # 1010 ≥ 100 %
    assert set(BudgetAlert.objects.values_list("level", flat=True)) == {
        "50",
        "80",
        "100",
        "forecast",
    }
    assert Notice.objects.filter(user=world.client_contact.user, kind="budget.alert").count() == 4
    # The other client's contact hears nothing of it.
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()


def test_history_logged_later_dates_each_alert_at_the_entry_that_crossed_it(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """Weeks of work recorded at once (the demo's history): the thresholds were crossed then,
    so the alerts and the notices carry that day and the figures of that day, and nobody is
    e-mailed today about it."""
    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    budget(world, "2")  # 960 minutes
    today = timezone.localdate()
    days = [today - timedelta(days=n) for n in (30, 20, 10)]
    items = [
        EntryInput(
            person=world.member.user,
            date=day,
            minutes=minutes,
            logged_at=timezone.make_aware(datetime.combine(day, time(18))),
        )
        for day, minutes in zip(days, (300, 300, 300), strict=True)
    ]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.time_entries_log(membership=world.member, engagement=world.engagement, items=items)
    alerts = {a.level: a for a in BudgetAlert.objects.all()}
    assert set(alerts) == {"50", "80"}
    assert timezone.localdate(alerts["50"].created_at) == days[1]  # 600 ≥ 480
    assert alerts["50"].consumed_minutes == 600
    assert timezone.localdate(alerts["80"].created_at) == days[2]  # 900 ≥ 768
    assert alerts["80"].consumed_minutes == 900
    notices = Notice.objects.filter(user=world.client_contact.user, kind="budget.alert")
    assert sorted(timezone.localdate(n.created_at) for n in notices) == days[1:]
    assert {n.email for n in notices} == {NoticeEmail.OFF}, "no e-mail today of a past moment"
    budget_mails = [m for m in mail.outbox if "of the budget consumed" in m.body]
    assert not budget_mails


def test_summary_forecast_projection_and_status(world: World) -> None:
    today = timezone.localdate()
    budget(world, "10")
    for weeks_ago in range(4):
        log(world, DAY, day=today - timedelta(days=7 * weeks_ago + 1))
    summary = selectors.consumption_summary(fetched_by=world.member, engagement=world.engagement)
    assert summary.consumed_minutes == 4 * DAY and summary.percent == 40
    assert summary.pace_minutes_per_week == DAY
    assert summary.forecast_minutes is None  # no estimate from the team yet
    services.remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=3 * DAY
    )
    summary = selectors.consumption_summary(fetched_by=world.member, engagement=world.engagement)
    assert summary.forecast_minutes == 7 * DAY and summary.forecast_percent == 70
    assert summary.status == "under"
    services.remaining_estimate_set(
        membership=world.member, engagement=world.engagement, remaining_minutes=7 * DAY
    )
    summary = selectors.consumption_summary(fetched_by=world.member, engagement=world.engagement)
    # 40 % consumed, forecast 110 %: at risk (amber), not over (red) before it is.
    assert (summary.status, summary.forecast_basis) == ("at_risk", "estimate")
    assert [b.minutes for b in summary.by_person] == [4 * DAY]
    assert sum(w.minutes for w in summary.weeks) == 4 * DAY
    assert summary.weeks[-1].cumulative == 4 * DAY


def test_late_logging_is_counted(world: World) -> None:
    world.workspace.late_logging_days = 3
    world.workspace.save()
    log(world, 60, day=timezone.localdate() - timedelta(days=10))
    log(world, 60, day=timezone.localdate() - timedelta(days=1))
    summary = selectors.consumption_summary(fetched_by=world.member, engagement=world.engagement)
    assert summary.late_entries == 1


def test_amounts_follow_the_rate_card_and_stay_hidden_from_clients(world: World) -> None:
    budget(world, "10", "9000")
    services.team_member_set(
        membership=world.owner, engagement=world.engagement, user=world.member.user, title="Senior"
    )
    services.rate_set(
        membership=world.owner, engagement=world.engagement, title="Senior", daily_rate=Decimal(900)
    )
    log(world, DAY)
    provider = selectors.consumption_summary(fetched_by=world.finance, engagement=world.engagement)
    assert provider.consumed_amount == Decimal("900.00")
    client = selectors.consumption_summary(
        fetched_by=world.client_contact, engagement=world.engagement
    )
    assert client.consumed_amount is None and not client.show_amounts
    assert client.consumed_minutes == provider.consumed_minutes
    world.workspace.show_amounts_to_client = True
    world.workspace.save()
    world.client_contact.refresh_from_db()
    client = selectors.consumption_summary(
        fetched_by=world.client_contact, engagement=world.engagement
    )
    assert client.consumed_amount == Decimal("900.00")


def test_portfolio_share_of_closed_engagements_under_budget(world: World) -> None:

    budget(world, "10")
    for _ in range(8):
        log(world, DAY)  # 8 days of 10: 20 % under
    services.budget_revise(
        membership=world.owner,
        engagement=world.engagement_b,
        days=Decimal(2),
        amount=None,
        reason="x",
    )
    services.time_entry_log(
        membership=world.member,
        engagement=world.engagement_b,
        item=EntryInput(person=world.member.user, date=timezone.localdate(), minutes=3 * DAY),
    )  # 3 days of 2: over
    for engagement in (world.engagement, world.engagement_b):
        close_through_the_closure(world, engagement)
    figure = selectors.portfolio_under_budget(fetched_by=world.owner)
    assert (figure.closed, figure.with_budget, figure.under_budget) == (2, 2, 1)
    assert figure.share_under_budget == 50
    assert figure.average_margin_percent == Decimal("20.0")


def test_client_page_shows_the_same_numbers_without_internal_notes(login, world: World) -> None:
    budget(world, "10")
    log(world, 90, shared_note="Shared workshop notes", internal_note="SECRET-INTERNAL")
    url = f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/"
    client_page = login("client_contact").get(url)
    assert client_page.status_code == 200
    assert b"Shared workshop notes" in client_page.content
    assert b"SECRET-INTERNAL" not in client_page.content
    assert b"Log time" not in client_page.content
    member_page = login("member").get(url)
    assert b"SECRET-INTERNAL" in member_page.content
    assert (
        client_page.context["summary"].consumed_minutes
        == member_page.context["summary"].consumed_minutes
    )
    other = login("other_client_contact").get(url)
    assert other.status_code == 404


def test_the_entries_table_shows_a_correction_to_both_sides_on_every_page(
    login, world: World
) -> None:
    """The first page (read as rows by one prepared query) and a filtered page (through the
    paginator) write the same table: who, how long, which activity, the shared note as text,
    what a correction replaced and why, the internal note to the provider only, and the
    "Correct" link only where a correction can still be made."""
    workshops = services.activity_create(
        membership=world.owner, engagement=world.engagement, name="Workshops <1>"
    )
    entry = log(world, 120, shared_note="Plan & <b>build</b>", internal_note="SECRET-INTERNAL")
    _reversal, replacement = services.time_entry_correct(
        membership=world.member,
        entry=entry,
        reason="Typed <2 h>",
        replacement=EntryInput(
            person=world.member.user, date=entry.date, minutes=90, activity=workshops
        ),
    )
    url = f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/"

    def table(persona: str, query: str = "") -> str:
        page = login(persona).get(url + query).content.decode()
        return page.split('<table class="entries">')[1].split("<tbody>")[1].split("</tbody>")[0]

    mine = table("member")
    assert mine == table("member", f"?person={world.member.user.pk}")  # the paginated path
    rows = mine.split("</tr>")[:-1]
    assert len(rows) == 3  # newest first: the replacement, the reversal, the original
    assert f"Replaces entry #{entry.pk}: Typed &lt;2 h&gt;" in rows[0]
    assert "Workshops &lt;1&gt;" in rows[0] and "1.5\xa0h" in rows[0]
    assert f"Reverses entry #{entry.pk}" in rows[1] and "-2.0\xa0h" in rows[1]
    assert "entry-corrected" in rows[2] and "Corrected (see the entries" in rows[2]
    assert "Plan &amp; &lt;b&gt;build&lt;/b&gt;" in rows[2] and "SECRET-INTERNAL" in rows[2]
    assert world.member.user.get_full_name() in rows[2]
    correct = f"/entries/{replacement.pk}/correct/"
    assert correct in rows[0] and "/correct/" not in rows[1] + rows[2]
    theirs = table("client_contact")
    assert theirs == table("client_contact", f"?person={world.member.user.pk}")
    assert "SECRET-INTERNAL" not in theirs and "/correct/" not in theirs
    assert f"Replaces entry #{entry.pk}: Typed &lt;2 h&gt;" in theirs


def test_logging_through_the_page_and_field_errors(login, world: World) -> None:
    http = login("member")
    url = f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/log/"
    bad = http.post(
        url,
        {"entry-date": "2026-10-01", "entry-duration": "abc", "entry-person": world.member.user.pk},
    )
    assert bad.status_code == 400 and "duration" in bad.context["entry_form"].errors
    good = http.post(
        url,
        {
            "entry-date": "2026-10-01",
            "entry-duration": "1h30",
            "entry-person": world.member.user.pk,
        },
    )
    assert good.status_code == 302
    assert TimeEntry.objects.get().minutes == 90


def test_consumption_page_query_count_does_not_grow_with_entries(login, world: World) -> None:
    budget(world, "50")
    http = login("client_contact")
    url = f"/w/{world.workspace.slug}/engagements/{world.engagement.pk}/consumption/"
    log(world, 60, day=timezone.localdate() - timedelta(days=30))
    http.get(url)
    with CaptureQueriesContext(connection) as few:
        assert http.get(url).status_code == 200
    items = [
        EntryInput(
            person=world.member.user, date=timezone.localdate() - timedelta(days=i % 60), minutes=30
        )
        for i in range(200)
    ]
    services.time_entries_log(membership=world.member, engagement=world.engagement, items=items)
    with CaptureQueriesContext(connection) as many:
        assert http.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_a_draft_engagement_tells_its_client_nothing(
    world: World, django_capture_on_commit_callbacks
) -> None:
    """A draft is the provider's alone (access.scope_engagements): its client's contacts, who
    may not see it, are not told of its budget, its commitments or its overdue payments; the
    provider's lead is."""
    from datetime import timedelta

    from confiance.followup.services import commitment_create, payment_create
    from confiance.followup.tasks import remind_overdue_payments

    draft = world.draft
    draft.lead = world.member.user
    draft.save(update_fields=["lead"])
    contact = world.client_contact.user
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        services.budget_revise(
            membership=world.owner, engagement=draft, days=Decimal(10), amount=None, reason="Plan"
        )
        commitment_create(
            membership=world.owner,
            engagement=draft,
            side="provider",
            owner=world.owner.user,
            text="Send the plan",
            due_date=today + timedelta(days=3),
        )
        payment_create(
            membership=world.finance,
            engagement=draft,
            kind="deposit",
            label="Deposit",
            amount=Decimal(1000),
            issue_date=today - timedelta(days=40),
            due_date=today - timedelta(days=10),
        )
    with django_capture_on_commit_callbacks(execute=True):
        remind_overdue_payments.call()
    assert not Notice.objects.filter(user=contact).exists()
    assert not [m for m in mail.outbox if contact.email in m.to]
    told = set(Notice.objects.filter(user=world.member.user).values_list("kind", flat=True))
    assert {"budget.revised", "payment.overdue"} <= told
