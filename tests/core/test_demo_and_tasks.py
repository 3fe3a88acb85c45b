"""The demo workspace loads once; the database task backend really runs queued work."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from confiance.core.demo import DEMO_LOGINS, DEMO_PASSWORD, DEMO_SLUG, build_demo
from confiance.core.models import AuditEvent, Invitation, Membership, Role, User, Workspace
from confiance.core.services import invitation_create
from confiance.engagements.models import Engagement, EngagementStatus


def test_demo_is_idempotent_and_tells_a_story(db) -> None:
    assert build_demo() is True
    counts = (User.objects.count(), Engagement.objects.count(), AuditEvent.objects.count())
    assert build_demo() is False
    assert (User.objects.count(), Engagement.objects.count(), AuditEvent.objects.count()) == counts
    workspace = Workspace.objects.get(slug=DEMO_SLUG)
    assert workspace.clients.count() == 2
    statuses = set(workspace.engagements.values_list("status", flat=True))
    assert {
        EngagementStatus.ACTIVE,
        EngagementStatus.CLOSED,
        EngagementStatus.STOPPED_EARLY,
    } <= statuses
    roles = set(Membership.objects.filter(workspace=workspace).values_list("role", flat=True))
    assert roles == {Role.OWNER, Role.MEMBER, Role.FINANCE, Role.CLIENT, Role.EXPERT}


def test_demo_log_ins_work(client, db) -> None:
    build_demo()
    for demo_login in DEMO_LOGINS:
        assert client.login(username=demo_login.email, password=DEMO_PASSWORD), demo_login.email
        client.logout()


def test_demo_command_prints_the_log_ins(db, capsys) -> None:
    call_command("demo")
    out = capsys.readouterr().out
    for demo_login in DEMO_LOGINS:
        assert demo_login.email in out


@pytest.mark.django_db(transaction=True)
def test_database_backend_queues_and_the_worker_sends_the_email(settings, world) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    issued = invitation_create(membership=world.owner, email="queued@x.test", role=Role.EXPERT)
    assert Invitation.objects.filter(pk=issued.invitation.pk).exists()
    assert mail.outbox == [], "nothing is sent until the worker runs"
    assert DBTaskResult.objects.count() == 1
    call_command("db_worker", batch=True, queue_name="*", reload=False, startup_delay=False)
    assert [m.to for m in mail.outbox] == [["queued@x.test"]]
    assert issued.link in mail.outbox[0].body
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
