"""The database task backend really runs queued work. (The demo loading once, and its log-ins:
tests/core/test_demo_story.py.)"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from confiance.core.models import Invitation, Role
from confiance.core.services import invitation_create


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
