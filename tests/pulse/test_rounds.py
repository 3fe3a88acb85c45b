"""Pulse rounds: opened by the cadence and at closure, once, with the right people asked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from confiance.core.models import AuditEvent, Notice
from confiance.engagements.models import EngagementStatus
from confiance.engagements.services import engagement_set_status
from confiance.pulse import services
from confiance.pulse.models import PulseInvitee, PulseSurvey
from tests.closure.support import close_through_the_closure
from tests.conftest import World
from tests.pulse.support import add_client_contacts, staff_engagement


def test_cadence_opens_a_round_once_per_active_engagement(world: World) -> None:
    now = timezone.now()
    assert services.pulse_open_due(now=now) == 3  # engagement, engagement_b, foreign_engagement
    assert not PulseSurvey.objects.filter(engagement=world.draft).exists()
    # Idempotent: running again (even a day later) opens nothing new.
    assert services.pulse_open_due(now=now) == 0
    assert services.pulse_open_due(now=now + timedelta(days=1)) == 0
    assert PulseSurvey.objects.count() == 3


def test_a_daily_run_locks_only_the_engagements_whose_round_may_be_due(world: World) -> None:
    now = timezone.now()
    services.pulse_open_due(now=now)
    # The next day no round is due: one query finds every engagement's last round, one reads
    # each workspace's cadence; no engagement is locked and read again (five queries each).
    with CaptureQueriesContext(connection) as queries:
        assert services.pulse_open_due(now=now + timedelta(days=1)) == 0
    assert len(queries) == 3, "\n".join(q["sql"][:90] for q in queries)  # 2 workspaces


def test_next_round_opens_when_the_cadence_has_passed(world: World) -> None:
    now = timezone.now()
    services.pulse_open_due(now=now)
    assert services.pulse_open_due(now=now + timedelta(days=13)) == 0
    assert services.pulse_open_due(now=now + timedelta(days=14)) == 3
    assert PulseSurvey.objects.filter(engagement=world.engagement).count() == 2


def test_owner_sets_the_cadence_of_the_workspace_only(world: World) -> None:
    services.pulse_settings_set(membership=world.owner, cadence_days=5)
    now = timezone.now()
    services.pulse_open_due(now=now)
    # Provider's engagements every 5 days; the other workspace keeps the default 14.
    assert services.pulse_open_due(now=now + timedelta(days=5)) == 2
    survey = PulseSurvey.objects.filter(engagement=world.engagement).first()
    assert survey is not None and survey.closes_at - survey.opened_at == timedelta(days=5)


def test_only_the_owner_sets_the_cadence_and_within_bounds(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.pulse_settings_set(membership=world.member, cadence_days=7)
    with pytest.raises(ValidationError):
        services.pulse_settings_set(membership=world.owner, cadence_days=0)
    assert services.cadence_days(world.workspace) == 14


def test_rounds_do_not_overlap_and_close_after_a_week(world: World) -> None:
    survey = services.pulse_round_open(engagement=world.engagement)
    assert survey is not None
    assert survey.closes_at - survey.opened_at == timedelta(days=7)
    assert survey.is_open() and not survey.is_open(survey.closes_at)


def test_who_is_asked_the_team_the_lead_and_the_clients_contacts(world: World) -> None:
    staff_engagement(world)
    extra = add_client_contacts(world, 1)[0]
    survey = services.pulse_round_open(engagement=world.engagement)
    asked = {(i.user_id, i.side) for i in PulseInvitee.objects.filter(survey=survey)}
    assert asked == {
        (world.owner.user.pk, "provider"),  # lead
        (world.member.user.pk, "provider"),  # team
        (world.client_contact.user.pk, "client"),
        (extra.user.pk, "client"),
    }
    # Never the other client's contact, the expert, or finance (not on the team).


def test_interlocutors_of_the_provider_are_asked(world: World) -> None:
    from confiance.engagements.models import Interlocutor

    Interlocutor.objects.create(
        workspace=world.workspace,
        engagement=world.engagement,
        user=world.finance.user,
        side=Interlocutor.Side.PROVIDER,
        role="Billing",
    )
    survey = services.pulse_round_open(engagement=world.engagement)
    assert PulseInvitee.objects.filter(survey=survey, user=world.finance.user).exists()


def test_an_inactive_person_is_not_asked(world: World) -> None:
    user = world.client_contact.user
    user.is_active = False
    user.save(update_fields=["is_active"])
    survey = services.pulse_round_open(engagement=world.engagement)
    assert not PulseInvitee.objects.filter(survey=survey, user=user).exists()


def test_people_asked_get_a_notice_and_an_email_with_the_link(
    world: World, django_capture_on_commit_callbacks
) -> None:
    staff_engagement(world)
    with django_capture_on_commit_callbacks(execute=True):
        survey = services.pulse_round_open(engagement=world.engagement)
    link = f"/w/provider/engagements/{world.engagement.pk}/pulse/"
    notices = Notice.objects.filter(kind="pulse.open")
    assert {n.user_id for n in notices} == set(
        PulseInvitee.objects.filter(survey=survey).values_list("user_id", flat=True)
    )
    assert all(n.link == link for n in notices)
    assert "Alpha migration" in notices[0].text()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        ["owner@provider.test", "member@provider.test", "contact@client-a.test"]
    )
    assert all(link in m.body for m in mail.outbox)
    assert AuditEvent.objects.filter(verb="pulse.open", object_id=str(survey.pk)).exists()


def test_a_closing_round_opens_once_when_the_engagement_closes(world: World) -> None:
    now = timezone.now()
    services.pulse_round_open(engagement=world.engagement, now=now - timedelta(days=3))
    close_through_the_closure(world, world.engagement)
    survey = services.pulse_round_open(engagement=world.engagement, now=now)
    assert survey is not None and survey.reason == PulseSurvey.Reason.CLOSURE
    assert services.pulse_round_open(engagement=world.engagement, now=now) is None
    assert services.pulse_open_due(now=now + timedelta(days=60)) == 2  # the two others' cadence
    assert PulseSurvey.objects.filter(engagement=world.engagement).count() == 2


def test_no_closing_round_where_the_pulse_was_never_used(world: World) -> None:
    engagement_set_status(
        membership=world.owner,
        engagement=world.engagement,
        status=EngagementStatus.STOPPED_EARLY,
        reason="Budget cut",
    )
    assert services.pulse_round_open(engagement=world.engagement) is None


def test_the_command_opens_due_rounds_once(world: World, capsys) -> None:
    call_command("open-pulses", "--now")
    call_command("open-pulses", "--now")
    out = capsys.readouterr().out
    assert "3 pulse round(s) opened." in out and "0 pulse round(s) opened." in out
    assert PulseSurvey.objects.count() == 3
