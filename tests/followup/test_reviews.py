"""Confirm or contest: what one side records about the other is shown to it, to answer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import formats, timezone, translation

from confiance.core.models import Notice
from confiance.followup import reviews, services
from confiance.followup.models import Commitment, FactReview, ReviewState
from confiance.ledger.models import LedgerEntry
from confiance.trust.models import TrustFact
from confiance.trust.services import trust_rebuild
from tests.conftest import World


def _client_commitment(world: World) -> Commitment:
    return services.commitment_create(
        membership=world.client_contact,
        engagement=world.engagement,
        side="client",
        owner=world.client_contact.user,
        text="Send the test data",
        due_date=timezone.localdate() + timedelta(days=3),
    )


def _broken(world: World, capture) -> FactReview:  # type: ignore[no-untyped-def]
    commitment = _client_commitment(world)
    with capture(execute=True):
        services.commitment_set_status(
            membership=world.member, commitment=commitment, status="broken"
        )
    return FactReview.objects.get()


def _broken_facts(world: World) -> int:
    return TrustFact.objects.filter(
        engagement=world.engagement, indicator="client_commitment_broken"
    ).count()


def test_a_commitment_marked_by_the_other_side_is_shown_to_its_side_at_once(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    assert review.side == "client" and review.state == ReviewState.PENDING
    assert review.shown_what == "Commitment “Send the test data” marked broken"
    with translation.override("fr"):
        # Each reader reads it in their own language, whoever recorded it.
        assert review.shown_what == "Engagement pris « Send the test data » marqué non tenu"
    notice = Notice.objects.get(user=world.client_contact.user, kind="review.requested")
    assert "Confirm or contest it" in notice.text()
    assert notice.link.endswith("/followup/#reviews")


def test_a_side_marking_its_own_commitment_opens_no_review(world: World) -> None:
    commitment = _client_commitment(world)
    services.commitment_set_status(
        membership=world.client_contact, commitment=commitment, status="kept"
    )
    assert not FactReview.objects.exists()


def test_a_contest_is_ledgered_told_to_both_sides_and_holds_the_trust_evidence(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    trust_rebuild(engagement=world.engagement)
    assert _broken_facts(world) == 1
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_contest(
            membership=world.client_contact, review=review, reason="We sent it on time"
        )
    review.refresh_from_db()
    assert review.state == ReviewState.CONTESTED and review.reason == "We sent it on time"
    entry = LedgerEntry.objects.filter(kind="review.contested").get()
    assert entry is not None
    assert Notice.objects.filter(user=world.member.user, kind="review.contested").exists()
    assert _broken_facts(world) == 0, "held out of trust while contested"

    # The recording side withdraws its record: it stays out of trust, both sides are told.
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_resolve(membership=world.member, review=review, note="Our mistake")
    review.refresh_from_db()
    assert review.state == ReviewState.WITHDRAWN
    assert _broken_facts(world) == 0
    assert Notice.objects.filter(user=world.client_contact.user, kind="review.resolved").exists()


def test_the_contesting_side_may_withdraw_its_contest_and_the_record_counts_again(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_contest(membership=world.client_contact, review=review, reason="Unsure")
        reviews.review_resolve(membership=world.client_contact, review=review)
    review.refresh_from_db()
    assert review.state == ReviewState.UPHELD
    assert _broken_facts(world) == 1


def test_a_contest_needs_a_reason_and_the_side_concerned(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as error:
        reviews.review_contest(membership=world.client_contact, review=review, reason="  ")
    assert "reason" in error.value.error_dict
    with pytest.raises(ValidationError):
        reviews.review_contest(membership=world.client_contact, review=review, reason="x" * 2001)
    with pytest.raises(PermissionDenied):
        reviews.review_contest(membership=world.member, review=review, reason="Not yours")
    with pytest.raises(PermissionDenied):
        reviews.review_confirm(membership=world.other_client_contact, review=review)


def test_after_the_days_to_answer_the_record_stands(
    world: World, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    later = timezone.now() + timedelta(days=8)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    review.refresh_from_db()
    assert review.let_stand
    with pytest.raises(ValidationError):
        reviews.review_contest(membership=world.client_contact, review=review, reason="Late")


def test_confirming_tells_the_recorder(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        reviews.review_confirm(membership=world.client_contact, review=review)
    review.refresh_from_db()
    assert review.state == ReviewState.CONFIRMED
    assert Notice.objects.filter(user=world.member.user, kind="review.confirmed").exists()


def test_client_attendance_and_payment_dates_open_reviews_for_the_client(world: World) -> None:
    meeting = services.meeting_create(
        membership=world.member,
        engagement=world.engagement,
        title="Kick-off",
        starts_at=timezone.now() - timedelta(hours=2),
        duration_minutes=60,
        channel="video",
        attendees=[world.member.user, world.client_contact.user],
    )
    services.meeting_record(
        membership=world.member,
        meeting=meeting,
        attendance={world.member.user.pk: "present", world.client_contact.user.pk: "absent"},
        minutes="",
        internal_notes="",
    )
    attendance = FactReview.objects.get(subject="attendance")
    assert attendance.side == "client" and "Carla Contact" in attendance.shown_what
    today = timezone.localdate()
    payment = services.payment_create(
        membership=world.finance,
        engagement=world.engagement,
        kind="deposit",
        label="Deposit",
        amount=Decimal("1000.00"),
        issue_date=today - timedelta(days=10),
        due_date=today - timedelta(days=5),
    )
    services.payment_mark_paid(membership=world.finance, payment=payment, paid_date=today)
    paid = FactReview.objects.get(subject="payment")
    assert paid.side == "client" and formats.date_format(today, "DATE_FORMAT") in paid.shown_what
    with translation.override("fr"):
        assert formats.date_format(today, "DATE_FORMAT") in paid.shown_what
        assert today.isoformat() not in paid.shown_what


def test_contest_page_refuses_an_empty_reason_with_a_field_error(
    login, world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    review = _broken(world, django_capture_on_commit_callbacks)
    http = login("client_contact")
    page = http.get(reverse("followup", kwargs={"ws": "provider", "pk": world.engagement.pk}))
    assert "Records to confirm or contest" in page.content.decode()
    url = reverse(
        "review-contest", kwargs={"ws": "provider", "pk": world.engagement.pk, "rid": review.pk}
    )
    response = http.post(url, {f"contest-{review.pk}-reason": ""})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    response = http.post(url, {f"contest-{review.pk}-reason": "We delivered it"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.state == ReviewState.CONTESTED
    # Both sides see the contest and its reason.
    page = login("member").get(
        reverse("followup", kwargs={"ws": "provider", "pk": world.engagement.pk})
    )
    assert "We delivered it" in page.content.decode()
    assert "Withdraw our record" in page.content.decode()
