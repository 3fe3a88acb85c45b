"""Writes never wait on an import: while a long import is written (by another thread, with its own
connection, as the worker does), people log in and write to engagements, this one included,
without an error and without a long wait. Runs on SQLite (a file, as in production) and on
PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
import time
from datetime import date
from types import SimpleNamespace

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


@pytest.mark.usefixtures("var_dir")
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_the_import_gives_way_to_waiting_writes_after_each_short_chunk(
    world: World, monkeypatch
) -> None:
    # SQLite has one writer; a write waiting for the lock polls it every 100 ms and gives up after
    # 5 s. Chunks of 1,000 rows and a 20 ms pause let a 100,000-row import starve the log-ins and
    # writes of everyone (issue 14's load bench): each chunk is short and the pause outlasts it.
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's single write lock")
    pauses: list[float] = []
    clock = SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append)
    monkeypatch.setattr(services, "time", clock)
    job = prepare(world, generic_csv(2 * services.SQLITE_CHUNK_SIZE + 1))
    job = import_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE
    assert services.SQLITE_CHUNK_SIZE <= 200
    assert len(pauses) == 3, "one pause after each chunk"
    assert min(pauses) >= services.SQLITE_MIN_PAUSE_SECONDS > 0.1, "longer than a poll of the lock"


def test_reading_the_consumption_page_takes_no_write_lock(world: World, client) -> None:
    # On SQLite every transaction begins IMMEDIATE, taking the one write lock: a page that opened
    # one (to read the workspace's signing key) waited behind an import and answered 500.
    from django.db import connection as default_connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.owner.user)
    url = reverse("consumption", kwargs={"ws": "provider", "pk": world.engagement.pk})
    assert client.get(url).status_code == 200  # creates what is made on first use
    with CaptureQueriesContext(default_connection) as queries:
        assert client.get(url).status_code == 200
    opened = [q["sql"] for q in queries if q["sql"].startswith(("SAVEPOINT", "BEGIN"))]
    assert opened == []
