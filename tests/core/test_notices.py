"""Telling people: notices and e-mails in their language, preferences, digest, unsubscribe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from confiance.core import services
from confiance.core.models import AuditEvent, Notice, NoticeEmail
from confiance.core.notices import (
    DIGEST,
    OFF,
    digests_send,
    notify,
    unsubscribe_token,
)
from confiance.followup import services as followup
from confiance.problems import services as problems
from tests.conftest import World


def _ics(message) -> str:  # type: ignore[no-untyped-def]
    content = message.attachments[0][1]
    text = content if isinstance(content, str) else content.decode()
    return text.replace("\r\n ", "")  # unfold the long lines (RFC 5545, 3.1)


def _budget(world: World, users: list) -> list[Notice]:  # type: ignore[type-arg]
    return notify(
        workspace_id=world.workspace.pk,
        users=users,
        kind="budget.alert",
        params={
            "engagement": "Alpha migration",
            "level": "forecast",
            "consumed_days": "9.0",
            "budget_days": "10.0",
            "forecast_days": "12.5",
            "percent": 90,
            "over_days": "2.5",
        },
        link="/w/provider/engagements/1/consumption/",
    )


def test_each_reader_gets_the_email_in_their_own_language_with_the_figures(world: World) -> None:
    contact = world.client_contact.user
    services.user_language_set(user=contact, language="fr")
    _budget(world, [contact, world.member.user])
    by_reader = {m.to[0]: m for m in mail.outbox}
    french = by_reader["contact@client-a.test"]
    english = by_reader["member@provider.test"]
    assert "dépasse le budget de 2,5 jours" in french.subject  # French decimal comma
    assert "Consommé : 9,0 jours sur un budget de 10,0 jours (90 %)" in french.body
    assert "exceeds the budget by 2.5 days" in english.subject
    assert "Forecast at completion: 12.5 days." in english.body
    assert "http://" in english.body and "/consumption/" in english.body
    # The notice itself is read in the reader's language too (rendered when shown).
    assert Notice.objects.filter(user=contact, email=NoticeEmail.SENT).count() == 1


def test_digest_preference_keeps_emails_for_one_daily_message(world: World) -> None:
    contact = world.client_contact.user
    services.notice_preferences_set(user=contact, modes={"budget": DIGEST}, actor=contact)
    _budget(world, [contact])
    _budget(world, [contact])
    assert mail.outbox == []
    assert Notice.objects.filter(user=contact).count() == 2, "the notices are there at once"
    assert digests_send() == 1
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert "2" in digest.subject and digest.body.count("exceeds the budget by 2.5 days") == 2
    assert digest.extra_headers["List-Unsubscribe"].startswith("<http")
    # A notice goes into one digest only.
    assert digests_send() == 0 and len(mail.outbox) == 1
    assert set(Notice.objects.values_list("email", flat=True)) == {NoticeEmail.DIGESTED}


def test_off_preference_keeps_the_notice_but_sends_no_email(world: World) -> None:
    contact = world.client_contact.user
    services.notice_preferences_set(user=contact, modes={"budget": OFF}, actor=contact)
    _budget(world, [contact])
    assert mail.outbox == []
    assert Notice.objects.get(user=contact).email == NoticeEmail.OFF
    assert digests_send() == 0


def test_unknown_delivery_is_refused(world: World) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.notice_preferences_set(
            user=world.member.user, modes={"budget": "hourly"}, actor=world.member.user
        )


def test_send_digests_command(world: World) -> None:
    from io import StringIO

    contact = world.client_contact.user
    services.notice_preferences_set(user=contact, modes={"budget": DIGEST}, actor=contact)
    _budget(world, [contact])
    out = StringIO()
    call_command("send-digests", "--now", stdout=out)
    assert "1 digest(s) sent." in out.getvalue()
    assert [m.to for m in mail.outbox] == [["contact@client-a.test"]]


def test_unsubscribe_link_works_without_logging_in(client, world: World) -> None:  # type: ignore[no-untyped-def]
    contact = world.client_contact.user
    _budget(world, [contact])
    body = mail.outbox[0].body
    url = reverse("notice-unsubscribe", kwargs={"token": unsubscribe_token(contact, "budget")})
    assert url in body
    page = client.get(url)
    assert page.status_code == 200 and "Budget: alerts and changes" in page.content.decode()
    contact.refresh_from_db()
    assert contact.notice_modes == {}, "looking at the link changes nothing"
    assert client.post(url).status_code == 200
    contact.refresh_from_db()
    assert contact.notice_modes == {"budget": OFF}
    assert AuditEvent.objects.filter(verb="user.notice_preferences", actor=None).exists()
    mail.outbox.clear()
    _budget(world, [contact])
    assert mail.outbox == []


def test_a_tampered_unsubscribe_link_is_not_found(client, world: World) -> None:  # type: ignore[no-untyped-def]
    token = unsubscribe_token(world.client_contact.user, "budget")
    assert client.post(f"/notices/unsubscribe/{token[:-2]}xx/").status_code == 404


def test_preferences_page_saves_each_group(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("client_contact")
    page = http.get(reverse("notice-preferences"))
    assert page.status_code == 200 and "Meetings" in page.content.decode()
    response = http.post(
        reverse("notice-preferences"), {"group_meeting": "digest", "group_budget": "off"}
    )
    assert response.status_code == 302
    user = world.client_contact.user
    user.refresh_from_db()
    assert user.notice_modes["meeting"] == DIGEST and user.notice_modes["budget"] == OFF


def test_language_switch_remembers_the_persons_language(login, world: World) -> None:  # type: ignore[no-untyped-def]
    http = login("client_contact")
    http.post(reverse("set_language"), {"language": "fr", "next": "/"})
    user = world.client_contact.user
    user.refresh_from_db()
    assert user.language == "fr"


def test_meeting_invitation_carries_an_icalendar_request_then_its_updates(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    start = timezone.now() + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        meeting = followup.meeting_create(
            membership=world.member,
            engagement=world.engagement,
            title="Steering committee",
            starts_at=start,
            duration_minutes=60,
            channel="video",
            attendees=[world.member.user, world.client_contact.user],
        )
    assert [m.to[0] for m in mail.outbox] == ["contact@client-a.test"], "not the organiser"
    invite = mail.outbox[0]
    mimetype = invite.attachments[0][2]
    assert mimetype.startswith("text/calendar; method=REQUEST")
    text = _ics(invite)
    assert "METHOD:REQUEST" in text and "SEQUENCE:0" in text
    assert "ATTENDEE" in text and "contact@client-a.test" in text
    assert Notice.objects.filter(user=world.client_contact.user, kind="meeting.planned").exists()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        followup.meeting_update(
            membership=world.member,
            meeting=meeting,
            title="Steering committee",
            starts_at=start + timedelta(hours=2),
            duration_minutes=60,
            channel="video",
            attendees=[world.member.user, world.client_contact.user],
        )
    text = _ics(mail.outbox[0])
    assert "METHOD:REQUEST" in text and "SEQUENCE:1" in text
    assert "Moved from" in mail.outbox[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        followup.meeting_cancel(membership=world.member, meeting=meeting, reason="Holiday")
    text = _ics(mail.outbox[0])
    assert "METHOD:CANCEL" in text and "SEQUENCE:2" in text and "STATUS:CANCELLED" in text
    assert "Holiday" in mail.outbox[0].body


def test_every_step_of_a_problem_reaches_the_client(
    world: World, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    contact = world.client_contact.user
    with django_capture_on_commit_callbacks(execute=True):
        problem = problems.problem_raise(
            membership=world.member,
            engagement=world.engagement,
            title="Export fails",
            severity="high",
        )
        problems.problem_owner_name(
            membership=world.member, problem=problem, owner=world.member.user
        )
        problems.problem_update_post(
            membership=world.member, problem=problem, text="Fix under test"
        )
        problems.problem_escalate(
            membership=world.member, problem=problem, level=1, person=world.owner.user
        )
        problems.problem_resolve(membership=world.member, problem=problem)
    kinds = list(Notice.objects.filter(user=contact).order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "problem.raised",
        "problem.acknowledged",
        "problem.owner_named",
        "problem.update",
        "problem.escalated",
        "problem.resolved",
    ]
    raised = Notice.objects.get(user=contact, kind="problem.raised")
    assert "before you had to" in raised.text(), "a proactive problem says so"
    update = next(m for m in mail.outbox if "progress" in m.subject.lower())
    assert "Fix under test" in update.body
    assert not Notice.objects.filter(user=world.member.user).exists(), "not told of one's own act"
    assert not Notice.objects.filter(user=world.other_client_contact.user).exists()
