"""Writes never wait on an import: while a long import is written (by another thread, with its own
connection, as the worker does), people log in and write to engagements, this one included,
without an error and without a long wait. Runs on SQLite (a file, as in production) and on
PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.urls import reverse

from confiance.consumption import services as consumption_services
from confiance.consumption.imports import services
from confiance.consumption.imports.services import import_run
from confiance.consumption.models import ImportJob, TimeEntry
from tests.conftest import PASSWORD, World
from tests.consumption.import_support import prepare, var_dir  # noqa: F401
from tests.consumption.test_import_services import generic_csv

ROWS = 2000


@pytest.mark.usefixtures("var_dir")
@pytest.mark.django_db(transaction=True)
def test_log_ins_and_writes_go_through_while_a_long_import_is_written(
    world: World, monkeypatch, settings
) -> None:
    # Side effects are queued (as in production), not run inside the import's thread.
    settings.TASKS = {"default": {"BACKEND": "confiance.core.taskqueue.DatabaseBackend"}}
    monkeypatch.setattr(services, "CHUNK_SIZE", 100)
    job = prepare(world, generic_csv(ROWS))
    assert job.status == ImportJob.Status.PREVIEW
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            import_run(job_id=job.pk)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    writing = threading.Thread(target=worker)
    writing.start()
    deadline = time.monotonic() + 60
    while not ImportJob.objects.filter(pk=job.pk, processed_rows__gt=0).exists():
        assert time.monotonic() < deadline and writing.is_alive(), failures
        time.sleep(0.01)

    # Each of these waits at most SQLite's busy timeout (5 s) for a lock, else it fails with
    # "database is locked": that they all succeed is the bound (timings on a shared machine are
    # not asserted; the interleaving below shows they did not wait for the whole import).
    log_ins, writes = [], 0
    engagements = [world.engagement_b, world.engagement]  # another engagement, and this one
    while writing.is_alive():
        response = HttpClient().post(
            reverse("login"), {"username": "member@provider.test", "password": PASSWORD}
        )
        log_ins.append(response.status_code)
        consumption_services.time_entry_log(
            membership=world.owner,
            engagement=engagements[writes % 2],
            item=consumption_services.EntryInput(
                person=world.owner.user, date=date(2026, 10, 2), minutes=15
            ),
        )
        writes += 1
    writing.join()

    assert not failures
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == ROWS
    assert set(log_ins) == {302}, "every log-in succeeded"
    manual = TimeEntry.objects.filter(source="", minutes=15)
    assert writes >= 2 and manual.count() == writes
    assert manual.filter(engagement=world.engagement_b).count() == (writes + 1) // 2
    # Writes to the engagement being imported went in between the import's chunks.
    imported = TimeEntry.objects.filter(engagement=world.engagement, source="generic")
    first, last = imported.order_by("ledger_index")[0], imported.order_by("-ledger_index")[0]
    assert manual.filter(
        engagement=world.engagement,
        ledger_index__gt=first.ledger_index,
        ledger_index__lt=last.ledger_index,
    ).exists()
