"""Writes never wait on an import: while a long import is written (by another thread, with its own
connection, as the worker does), people log in and write to engagements, this one included,
without an error and without a long wait. Runs on SQLite (a file, as in production) and on
PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import itertools
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
    commits: list[int] = []
    job = import_run(job_id=job.pk, progress=lambda done, total: commits.append(done))
    assert job.status == ImportJob.Status.DONE
    assert services.SQLITE_CHUNK_SIZE <= 200
    chunks = [b - a for a, b in itertools.pairwise(commits[:-1]) if b > a]  # start, ..., end
    assert len(chunks) >= 3 and max(chunks) <= services.SQLITE_CHUNK_SIZE
    assert len(pauses) == len(chunks), "one pause after each chunk"
    assert min(pauses) >= services.SQLITE_MIN_PAUSE_SECONDS > 0.1, "longer than a poll of the lock"


class _Clock:
    """time for the import, in which writing a row takes ROW_SECONDS and nothing else does."""

    ROW_SECONDS = 1 / 64  # exact in binary: the sums below are exact

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.mark.usefixtures("var_dir")
def test_a_chunk_commits_once_its_time_is_spent(world: World, monkeypatch) -> None:
    # A chunk holds the engagement's ledger lock until it commits, and a write to the engagement
    # waits for it: on PostgreSQL a 1,000-row chunk held it up to 20 s on a loaded machine.
    clock = _Clock()
    monkeypatch.setattr(services, "time", clock)
    real = consumption_services.time_entries_log

    def taking_time(**kwargs):  # type: ignore[no-untyped-def]
        clock.now += clock.ROW_SECONDS * len(kwargs["items"])
        return real(**kwargs)

    monkeypatch.setattr(consumption_services, "time_entries_log", taking_time)
    job = prepare(world, generic_csv(200))
    commits: list[tuple[int, float]] = []  # (rows written, clock) at each commit
    job = import_run(job_id=job.pk, progress=lambda done, total: commits.append((done, clock.now)))
    assert job.status == ImportJob.Status.DONE and job.created_count == 200
    chunks = [
        (rows - rows_before, now - before)
        for (rows_before, before), (rows, now) in itertools.pairwise(commits[:-1])
    ]
    assert sum(rows for rows, _held in chunks) == 200
    # 64 rows fit in CHUNK_SECONDS: below the rows' bound, the time's bound ends each chunk. The
    # first chunk measures the pace with MIN_STEP rows, and commits when fewer than that still fit.
    rows_in_time = services.CHUNK_SECONDS / clock.ROW_SECONDS
    assert services.MIN_STEP < rows_in_time < min(services.CHUNK_SIZE, services.SQLITE_CHUNK_SIZE)
    assert [rows for rows, _held in chunks] == [50, 64, 64, 22]
    assert all(held <= services.CHUNK_SECONDS for _rows, held in chunks)


@pytest.mark.usefixtures("var_dir")
@pytest.mark.django_db(transaction=True)
def test_a_write_to_the_importing_engagement_gets_in_between_two_chunks(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 20)
    monkeypatch.setattr(services, "SQLITE_CHUNK_SIZE", 20)
    monkeypatch.setattr(services, "time", _Clock())  # no pause on SQLite
    job = prepare(world, generic_csv(60))
    written: list[BaseException | int] = []

    def write_from_another_connection() -> None:
        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # fail, rather than wait, on a held lock
                    cursor.execute("SET lock_timeout = '5s'")
            entry = consumption_services.time_entry_log(
                membership=world.owner,
                engagement=world.engagement,
                item=consumption_services.EntryInput(
                    person=world.owner.user, date=date(2026, 10, 2), minutes=15
                ),
            )
            written.append(entry.pk)
        except BaseException as error:
            written.append(error)
        finally:
            connection.close()

    def after_a_chunk(done: int, total: int) -> None:
        if done == 20:  # the first chunk committed, the import goes on after this returns
            writer = threading.Thread(target=write_from_another_connection)
            writer.start()
            writer.join(timeout=60)

    job = import_run(job_id=job.pk, progress=after_a_chunk)
    assert job.status == ImportJob.Status.DONE and job.created_count == 60
    assert len(written) == 1 and isinstance(written[0], int), written
    manual = TimeEntry.objects.get(pk=written[0])
    imported = TimeEntry.objects.filter(engagement=world.engagement, source="generic")
    assert imported.filter(ledger_index__lt=manual.ledger_index).count() == 20
    assert imported.filter(ledger_index__gt=manual.ledger_index).count() == 40


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
