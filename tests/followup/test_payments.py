"""Payments (deposit, invoices) with promptness; who sees them; the follow-up page's access and
its query count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from confiance.followup import selectors, services
from confiance.followup.models import Payment
from confiance.ledger.models import LedgerEntry
from confiance.ledger.selectors import opened_fact
from tests.conftest import World

TODAY = timezone.localdate


def issue(world: World, *, due_in=10, label="Deposit", engagement=None, by="finance") -> Payment:
    return services.payment_create(
        membership=getattr(world, by),
        engagement=engagement or world.engagement,
        kind="deposit",
        label=label,
        amount=Decimal("1200.50"),
        issue_date=TODAY() - timedelta(days=30),
        due_date=TODAY() + timedelta(days=due_in),
    )


def test_promptness_is_paid_minus_due_in_days(world: World):
    early = issue(world, due_in=-5)
    services.payment_mark_paid(
        membership=world.finance, payment=early, paid_date=TODAY() - timedelta(days=8)
    )
    late = issue(world, due_in=-20, label="Invoice 1")
    services.payment_mark_paid(membership=world.owner, payment=late, paid_date=TODAY())
    early.refresh_from_db()
    late.refresh_from_db()
    assert (early.promptness_days, late.promptness_days) == (-3, 20)
    assert late.paid_recorded_by == world.owner.user and late.paid_recorded_at is not None
    assert issue(world).promptness_days is None
    figure = selectors.client_payment_promptness(
        fetched_by=world.client_contact, client=world.client_a
    )
    assert figure.paid == 2 and figure.average_days == Decimal("8.5")
    # Another client's contact learns nothing about client A.
    other = selectors.client_payment_promptness(
        fetched_by=world.other_client_contact, client=world.client_a
    )
    assert other.paid == 0 and other.average_days is None


def test_marking_paid_is_ledgered_once(world: World):
    payment = issue(world, due_in=-2)
    services.payment_mark_paid(membership=world.finance, payment=payment, paid_date=TODAY())
    leaf = opened_fact(LedgerEntry.objects.get(kind="payment.paid"))
    assert (leaf["amount"], leaf["promptness_days"], leaf["by"]) == (
        "1200.50",
        2,
        world.finance.user.email,
    )
    with pytest.raises(ValidationError):
        services.payment_mark_paid(membership=world.finance, payment=payment, paid_date=TODAY())


def test_payments_are_validated(world: World):
    with pytest.raises(ValidationError):
        services.payment_create(
            membership=world.owner,
            engagement=world.engagement,
            kind="deposit",
            label="x",
            amount=Decimal("10"),
            issue_date=TODAY(),
            due_date=TODAY() - timedelta(days=1),
        )
    payment = issue(world)
    with pytest.raises(ValidationError):
        services.payment_mark_paid(
            membership=world.owner, payment=payment, paid_date=TODAY() + timedelta(days=1)
        )
    assert payment.currency == "EUR"


def test_only_owner_and_finance_handle_payments(world: World):
    for persona in ("member", "client_contact", "expert"):
        with pytest.raises(PermissionDenied):
            issue(world, by=persona)
    payment = issue(world)
    with pytest.raises(PermissionDenied):
        services.payment_mark_paid(membership=world.member, payment=payment, paid_date=TODAY())


def test_payments_visible_to_provider_and_this_client_only(world: World, client):
    issue(world, label="DEPOSIT-ALPHA")
    url = reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    for persona in ("owner", "finance", "member", "client_contact"):
        client.force_login(getattr(world, persona).user)
        assert "DEPOSIT-ALPHA" in client.get(url).content.decode(), persona
    # Members read them, but only owner and finance get the forms.
    client.force_login(world.member.user)
    assert "payment-amount" not in client.get(url).content.decode()
    client.force_login(world.finance.user)
    assert "payment-amount" in client.get(url).content.decode()
    for persona in ("expert", "other_client_contact", "outsider"):
        client.force_login(getattr(world, persona).user)
        assert client.get(url).status_code == 404
    for persona in ("expert", "other_client_contact"):
        assert (
            selectors.payment_list(fetched_by=getattr(world, persona), engagement=world.engagement)
            == []
        )


def test_client_sees_its_own_engagement_follow_up_not_others(world: World, client):
    services.commitment_create(
        membership=world.member,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="ALPHA-COMMITMENT",
        due_date=TODAY(),
    )
    services.commitment_create(
        membership=world.member,
        engagement=world.engagement_b,
        side="provider",
        owner=world.member.user,
        text="BETA-COMMITMENT",
        due_date=TODAY(),
    )
    client.force_login(world.client_contact.user)
    page = client.get(
        reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    ).content.decode()
    assert "ALPHA-COMMITMENT" in page and "BETA-COMMITMENT" not in page
    for engagement in (world.engagement_b, world.draft):
        url = reverse("followup", kwargs={"ws": world.workspace.slug, "pk": engagement.pk})
        assert client.get(url).status_code == 404


def test_payment_form_errors_keep_input(world: World, client):
    client.force_login(world.finance.user)
    url = reverse("payment-create", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    data = {
        "payment-kind": "invoice",
        "payment-label": "Invoice October",
        "payment-amount": "5000",
        "payment-issue_date": TODAY().isoformat(),
        "payment-due_date": (TODAY() - timedelta(days=1)).isoformat(),
    }
    response = client.post(url, data)
    assert response.status_code == 400 and "Invoice October" in response.content.decode()
    data["payment-due_date"] = (TODAY() + timedelta(days=30)).isoformat()
    assert client.post(url, data).status_code == 302
    payment = Payment.objects.get()
    paid = reverse(
        "payment-paid",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "pid": payment.pk},
    )
    assert client.post(paid, {"paid-paid_date": TODAY().isoformat()}).status_code == 302
    payment.refresh_from_db()
    assert payment.promptness_days == -30


def _fill(world: World, n: int) -> None:
    for i in range(n):
        c = services.commitment_create(
            membership=world.member,
            engagement=world.engagement,
            side="provider" if i % 2 else "client",
            owner=world.member.user if i % 2 else world.client_contact.user,
            text=f"Commitment {i}",
            due_date=TODAY() - timedelta(days=i % 3),
        )
        services.renegotiation_propose(
            membership=world.member if i % 2 else world.client_contact,
            commitment=c,
            reason="r",
            new_text="t",
        )
        services.meeting_create(
            membership=world.member,
            engagement=world.engagement,
            title=f"Meeting {i}",
            starts_at=timezone.now() + timedelta(days=i),
            duration_minutes=30,
            channel="phone",
            attendees=[world.member.user, world.client_contact.user],
        )
        issue(world, label=f"Invoice {i}")


@pytest.mark.parametrize("persona", ["finance", "client_contact"])
def test_follow_up_page_queries_do_not_grow_with_data(world: World, client, persona: str):
    client.force_login(getattr(world, persona).user)
    url = reverse("followup", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    _fill(world, 1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _fill(world, 12)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_objects_of_one_engagement_are_not_reachable_through_another(world: World, client):
    payment = issue(world)
    commitment = services.commitment_create(
        membership=world.member,
        engagement=world.engagement,
        side="provider",
        owner=world.member.user,
        text="x",
        due_date=TODAY(),
    )
    other = {"ws": world.workspace.slug, "pk": world.engagement_b.pk}
    client.force_login(world.owner.user)
    assert (
        client.get(reverse("commitment-detail", kwargs={**other, "cid": commitment.pk})).status_code
        == 404
    )
    paid = reverse("payment-paid", kwargs={**other, "pid": payment.pk})
    assert client.post(paid, {"paid-paid_date": TODAY().isoformat()}).status_code == 404
    payment.refresh_from_db()
    assert payment.paid_date is None


def test_the_client_is_told_of_a_payment_to_make_in_its_language(
    world: World, django_capture_on_commit_callbacks
) -> None:
    from django.core import mail

    from confiance.core.models import Notice
    from confiance.core.services import user_language_set

    user_language_set(user=world.client_contact.user, language="fr")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_create(
            membership=world.finance,
            engagement=world.engagement,
            kind="invoice",
            label="Facture 1",
            amount=Decimal("1200.50"),
            issue_date=timezone.localdate(),
            due_date=timezone.localdate() + timedelta(days=30),
        )
    told = Notice.objects.filter(kind="payment.issued")
    assert set(told.values_list("user_id", flat=True)) == {world.client_contact.user.pk}
    [message] = mail.outbox
    assert message.to == [world.client_contact.user.email]
    assert "facture « Facture 1 »" in message.subject and "EUR" in message.subject
    assert "1" in message.subject and "200,50" in message.subject  # French decimal comma


def test_an_overdue_payment_is_told_once_to_both_sides_with_its_amount_and_delay(
    world: World,
) -> None:
    """Issue 10, part 1: a payment left unpaid past its due date concerns the client who pays:
    the client's contacts (in their language) and the lead hear it once, with the amount and
    how many days late; a paid or not yet due payment is not reminded."""
    from django.core import mail

    from confiance.core.models import Notice
    from confiance.core.schedule import schedule_run_due
    from confiance.core.services import user_language_set

    world.engagement.lead = world.member.user
    world.engagement.save(update_fields=["lead"])
    user_language_set(user=world.client_contact.user, language="fr")
    issue(world, due_in=-4, label="Acompte 1")
    issue(world, due_in=3, label="Not yet due")
    paid = issue(world, due_in=-9, label="Paid")
    services.payment_mark_paid(membership=world.finance, payment=paid, paid_date=TODAY())
    mail.outbox.clear()
    now = timezone.now()
    schedule_run_due(worker_id="w1", now=now)
    schedule_run_due(worker_id="w2", now=now + timedelta(hours=2))
    told = Notice.objects.filter(kind="payment.overdue")
    assert sorted(told.values_list("user_id", flat=True)) == sorted(
        [world.client_contact.user.pk, world.member.user.pk]
    ), "once each, both sides, nobody else"
    (french,) = [m for m in mail.outbox if m.to == [world.client_contact.user.email]]
    assert "« Acompte 1 »" in french.subject and "4 jours de retard" in french.subject
    assert "200,50 EUR" in french.subject
    english = told.get(user=world.member.user).text()
    assert "“Acompte 1”, 1,200.50 EUR, was due on" in english and "4 days late" in english


def test_amounts_are_grouped_per_language_on_the_page_and_in_the_notice(
    world: World, client, django_capture_on_commit_callbacks
) -> None:
    """'€12,345.50' in English and '12 345,50 €' in French, as on the consumption page; the
    notice to the client '12,345.50 EUR' / '12 345,50 EUR' (the page showed '12345.50 EUR')."""
    from confiance.core.models import Notice
    from confiance.core.notices import render_notice

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_create(
            membership=world.finance,
            engagement=world.engagement,
            kind="invoice",
            label="Invoice 1",
            amount=Decimal("12345.50"),
            issue_date=TODAY(),
            due_date=TODAY() + timedelta(days=30),
        )
    url = reverse("followup", kwargs={"ws": "provider", "pk": world.engagement.pk})
    client.force_login(world.client_contact.user)
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "€12,345.50" in english and "12345.50" not in english
    client.cookies["django_language"] = "fr"
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "12\u202f345,50\xa0€" in french and "12345,50" not in french
    notice = Notice.objects.get(kind="payment.issued")
    with translation.override("en"):
        assert "12,345.50 EUR" in render_notice(notice.kind, notice.params)
    with translation.override("fr"):
        assert "12\u202f345,50 EUR" in render_notice(notice.kind, notice.params)


def test_the_upgrade_does_not_remind_payments_long_overdue_before_the_reminder_existed(
    world: World,
) -> None:
    """The first reminder run after the upgrade tells what fell due in the last 14 days, not
    every old unpaid payment of every engagement at once (followup migration 0006)."""
    from importlib import import_module

    from django.apps import apps

    from confiance.core.models import Notice
    from confiance.followup.tasks import remind_overdue_payments

    backfill = import_module("confiance.followup.migrations.0006_payment_reminded_backfill")
    old = issue(world, due_in=-30, label="Old")
    recent = issue(world, due_in=-4, label="Recent")
    backfill.mark_stale(apps, None)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.reminded_at is not None and recent.reminded_at is None
    remind_overdue_payments.call()
    told = {n.params["label"] for n in Notice.objects.filter(kind="payment.overdue")}
    assert told == {"Recent"}
