"""A consultant records a commitment on the follow-up page; the client agrees to its new date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from confiance.followup import services
from confiance.followup.models import Commitment
from tests.browser.conftest import shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(page.base + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_commitment_recorded_then_renegotiated_with_the_client(page, world) -> None:
    services.meeting_create(
        membership=world.member,
        engagement=world.engagement,
        title="Steering committee",
        starts_at=timezone.now() + timedelta(days=3),
        duration_minutes=60,
        channel="on_site",
        attendees=[world.member.user, world.client_contact.user],
    )
    log_in(page, world.member.user.email)
    page.goto(f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/")
    page.get_by_role("button", name="Follow-up").click()
    page.get_by_text("Record a commitment").click()
    due = (timezone.localdate() + timedelta(days=5)).isoformat()
    page.get_by_label("Commitment", exact=True).fill("Deliver the migration plan")
    page.get_by_label("Due date").fill(due)
    page.get_by_role("button", name="Record the commitment").click()
    page.get_by_role("link", name="Deliver the migration plan").click()
    page.get_by_label("New due date").fill((timezone.localdate() + timedelta(days=12)).isoformat())
    page.get_by_label("Why", exact=True).fill("The data extract arrives a week late")
    page.get_by_role("button", name="Propose").click()
    page.get_by_text("The other side must agree to it.").wait_for()

    page.context.clear_cookies()
    log_in(page, world.client_contact.user.email)
    page.goto(f"{page.base}/w/{world.workspace.slug}/engagements/{world.engagement.pk}/followup/")
    page.get_by_text("Renegotiation awaiting agreement").wait_for()
    shot(page, "client-followup")
    page.get_by_role("link", name="Deliver the migration plan").click()
    page.get_by_role("button", name="Agree").click()
    page.get_by_text("Renegotiation agreed.").wait_for()
    commitment = Commitment.objects.get()
    assert (commitment.version, commitment.status) == (2, "renegotiated")
    shot(page, "client-commitment-agreed")
