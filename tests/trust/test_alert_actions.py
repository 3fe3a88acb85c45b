"""Alerts people act on: acknowledged, assigned, snoozed with a reason for a bounded time;
closed only when the cause goes, with the outcome kept; never shown to the client."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from confiance.core.models import AuditEvent
from confiance.trust.actions import (
    SNOOZE_MAX_DAYS,
    trust_alert_acknowledge,
    trust_alert_assign,
    trust_alert_snooze,
)
from confiance.trust.models import TrustAlert
from confiance.trust.services import trust_check_alerts
from tests.conftest import World
from tests.trust.support import an_alert

pytestmark = pytest.mark.django_db


def test_an_alert_is_acknowledged_taken_assigned_and_snoozed_with_a_reason(world: World) -> None:
    pk = an_alert(world)
    alert = trust_alert_acknowledge(membership=world.member, alert_id=pk)
    assert alert.acknowledged_by == world.member.user and alert.assignee == world.member.user
    alert = trust_alert_assign(membership=world.member, alert_id=pk, assignee=world.owner.user)
    assert alert.assignee == world.owner.user
    alert = trust_alert_snooze(
        membership=world.owner, alert_id=pk, days=5, reason="Meeting already set for Monday"
    )
    assert alert.snoozed() and alert.snooze_reason == "Meeting already set for Monday"
    assert alert.closed_at is None, "acting on an alert does not close it"
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"trust.alert.acknowledge", "trust.alert.assign", "trust.alert.snooze"} <= verbs


def test_a_snooze_is_bounded_and_needs_a_reason(world: World) -> None:
    pk = an_alert(world)
    with pytest.raises(ValidationError) as error:
        trust_alert_snooze(membership=world.owner, alert_id=pk, days=SNOOZE_MAX_DAYS + 1, reason="")
    assert set(error.value.message_dict) == {"days", "reason"}


def test_only_the_providers_owners_and_consultants_act(world: World) -> None:
    pk = an_alert(world)
    for persona in ("client_contact", "finance", "expert", "outsider"):
        with pytest.raises(PermissionDenied):
            trust_alert_acknowledge(membership=getattr(world, persona), alert_id=pk)
    with pytest.raises(ValidationError):
        trust_alert_assign(membership=world.owner, alert_id=pk, assignee=world.client_contact.user)


def test_the_alert_closes_when_its_cause_goes_with_its_outcome_and_actions_kept(
    world: World,
) -> None:
    pk = an_alert(world)
    trust_alert_acknowledge(membership=world.member, alert_id=pk)
    trust_check_alerts(engagement=world.engagement)  # no commitment is overdue: the cause is gone
    alert = TrustAlert.objects.get(pk=pk)
    assert alert.closed_at is not None and alert.outcome == "cause_gone"
    assert alert.acknowledged_by == world.member.user
    with pytest.raises(ValidationError):
        trust_alert_snooze(membership=world.owner, alert_id=pk, days=3, reason="Late")


def test_the_trust_page_shows_who_acts_and_the_client_sees_no_alert(world: World, login) -> None:
    pk = an_alert(world)
    trust_alert_assign(membership=world.owner, alert_id=pk, assignee=world.member.user)
    url = reverse("trust", kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk})
    page = login("owner").get(url).content.decode()
    assert "Taken by Mark Member" in page and "Snooze" in page and "Next step:" in page
    client_page = login("client_contact").get(url).content.decode()
    assert "commitment(s) of ours" not in client_page and "Snooze" not in client_page
    act = reverse(
        "trust-alert-act",
        kwargs={"ws": world.workspace.slug, "pk": world.engagement.pk, "alert_id": pk},
    )
    assert login("client_contact").post(act, {"action": "acknowledge"}).status_code == 404
    response = login("member").post(act, {"action": "snooze", "days": 3, "reason": "On leave"})
    assert response.status_code == 302
    assert TrustAlert.objects.get(pk=pk).snooze_reason == "On leave"


def test_the_alert_email_tells_who_should_act_what_to_do(world: World) -> None:
    from django.core import mail

    from confiance.trust.tasks import send_trust_alert

    send_trust_alert.call(an_alert(world))
    assert mail.outbox, "the lead (or the owners) hear of it"
    body = mail.outbox[-1].body
    assert "Next step:" in body and "You are asked to act" in body
