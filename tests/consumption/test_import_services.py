"""The import service: validate everything first, write all or nothing, never twice."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from confiance.consumption import services as consumption_services
from confiance.consumption.imports import services
from confiance.consumption.imports.services import import_confirm, import_run
from confiance.consumption.models import Activity, ImportJob, TimeEntry
from confiance.core.models import AuditEvent
from confiance.core.services import membership_add, user_create
from confiance.engagements.models import Engagement
from confiance.ledger.models import LedgerEntry
from tests.conftest import World
from tests.consumption.import_support import prepare, sample, var_dir  # noqa: F401

pytestmark = pytest.mark.usefixtures("var_dir")


def entries(world: World) -> list[tuple[object, ...]]:
    return [
        (e.date, e.minutes, e.person.email, e.activity.name if e.activity else None, e.shared_note)
        for e in TimeEntry.objects.filter(engagement=world.engagement)
        .select_related("person", "activity")
        .order_by("id")
    ]


def generic_csv(rows: int, start: int = 0) -> bytes:
    lines = ["date,email,duration,activity,note"]
    lines += [
        f"2026-10-{1 + (i % 28):02d},member@provider.test,{30 + i % 60},"
        f"{'Analysis' if i % 2 else 'Workshops'},row {i}"
        for i in range(start, start + rows)
    ]
    return ("\n".join(lines) + "\n").encode()


M, O = "member@provider.test", "owner@provider.test"  # noqa: E741


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "toggl.csv",
            [
                (date(2026, 10, 5), 150, M, "Workshops", "Kick-off workshop, with the client"),
                # found by name: the export's e-mail is a personal address
                (date(2026, 10, 6), 45, O, "Analysis", "Data model review"),
                (date(2026, 10, 7), 60, M, None, "Travel to the client"),
            ],
        ),
        (
            "harvest.csv",
            [
                (date(2026, 10, 12), 210, M, "Analysis", "Interviews with the finance team"),
                (date(2026, 10, 13), 15, O, "Workshops", ""),
                (date(2026, 10, 13), 80, M, "Analysis", 'Notes with "quotes", and a comma'),
            ],
        ),
        (
            "kimai.csv",
            [
                (date(2026, 10, 19), 195, M, "Development", "Import scripts"),
                (date(2026, 10, 20), 60, O, "Meetings", "Steering committee"),
                (date(2026, 10, 21), 40, M, "Development", ""),
            ],
        ),
        (
            "generic.csv",
            [
                (date(2026, 10, 26), 90, M, "Analysis", "Reviewed the data model"),
                (date(2026, 10, 26), 75, O, "Workshops", "Workshop with the client"),
                (date(2026, 10, 27), 90, M, None, "Follow-up"),
                # the same row twice in a file is two entries
                (date(2026, 10, 26), 90, M, "Analysis", "Reviewed the data model"),
            ],
        ),
        (
            "generic_semicolon.csv",
            [
                (date(2026, 10, 28), 90, M, "Étude", "Étude détaillée; deux parties"),
                (date(2026, 10, 29), 45, O, "Étude", "Relecture"),
            ],
        ),
    ],
)
def test_each_format_imports_the_right_entries(world: World, name: str, expected: list) -> None:
    job = prepare(world, sample(name))
    assert job.status == ImportJob.Status.PREVIEW, job.errors
    job = import_run(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE
    assert entries(world) == expected
    assert job.created_count == len(expected) and job.skipped_count == 0
    ledgered = LedgerEntry.objects.filter(engagement=world.engagement, kind="time_entry")
    assert ledgered.count() == len(expected)
    source = TimeEntry.objects.filter(engagement=world.engagement).values_list("source", flat=True)
    assert set(source) == {job.source_format}


def test_internal_notes_are_imported_and_stay_out_of_the_ledger(world: World) -> None:
    import_run(job_id=prepare(world, sample("generic.csv")).pk)
    entry = TimeEntry.objects.filter(internal_note__startswith="Slow").first()
    assert entry is not None
    leaf = LedgerEntry.objects.get(engagement=world.engagement, index=entry.ledger_index)
    assert "Slow start" not in leaf.data


def test_preview_summarises_people_activities_and_activities_to_create(world: World) -> None:
    consumption_services.activity_create(
        membership=world.owner, engagement=world.engagement, name="analysis"
    )
    job = prepare(world, sample("generic.csv"))
    p = job.preview
    assert (p["format"], p["rows"], p["total_minutes"]) == ("generic", 4, 345)
    assert (p["first_date"], p["last_date"]) == ("2026-10-26", "2026-10-27")
    assert p["people"] == [
        {"name": "Mark Member", "email": M, "rows": 3, "minutes": 270},
        {"name": "Olivia Owner", "email": O, "rows": 1, "minutes": 75},
    ]
    assert p["activities_matched"] == [{"name": "analysis", "rows": 2}]
    assert p["activities_to_create"] == [{"name": "Workshops", "rows": 1}]
    assert p["rows_without_activity"] == 1
    assert p["already_imported"] == 0
    # Nothing is written by a preview.
    assert not TimeEntry.objects.exists()
    assert list(world.engagement.activities.values_list("name", flat=True)) == ["analysis"]


def test_a_file_with_bad_rows_writes_nothing_and_names_each_bad_row(world: World) -> None:
    job = prepare(world, sample("generic_bad.csv"))
    assert job.status == ImportJob.Status.INVALID
    assert [(e["line"], e["code"]) for e in job.errors] == [
        (3, "date_invalid"),
        (4, "person_unknown"),  # unknown address: no account is created from a CSV
        (5, "duration_invalid"),
        (6, "date_future"),
        (7, "person_unknown"),  # a client contact is not one of the provider's people
        (8, "duration_range"),
        (9, "date_invalid"),
    ]
    assert job.preview["bad_rows"] == 7
    reasons = [services.problem_message(e) for e in job.errors]
    assert "2026-13-01" in reasons[0] and "nobody@nowhere.test" in reasons[1]
    # A rejected job cannot be run, and nothing was written.
    with pytest.raises(ValidationError):
        import_confirm(membership=world.owner, job=job)
    assert import_run(job_id=job.pk).status == ImportJob.Status.INVALID
    assert not TimeEntry.objects.exists()
    assert not LedgerEntry.objects.filter(engagement=world.engagement).exists()


def test_the_stored_error_list_is_capped_but_counts_every_problem(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(services, "MAX_STORED_ERRORS", 5)
    content = b"date,email,duration\n" + b"2026-10-01,nobody@x.test,30\n" * 12
    job = prepare(world, content)
    assert len(job.errors) == 5
    assert job.preview["error_count"] == 12 and job.preview["bad_rows"] == 12


def test_an_unrecognised_file_is_rejected_on_its_header_line(world: World) -> None:
    job = prepare(world, b"%PDF-1.7 not a csv\n")
    assert job.status == ImportJob.Status.INVALID
    assert job.errors == [
        {"line": 1, "code": "unknown_format", "params": {"columns": "%pdf-1.7 not a csv"}}
    ]


def test_a_header_without_rows_is_rejected(world: World) -> None:
    job = prepare(world, b"date,email,duration\n")
    assert job.status == ImportJob.Status.INVALID
    assert job.errors[0]["code"] == "no_rows"


def test_importing_the_same_file_twice_adds_nothing_the_second_time(world: World) -> None:
    first = import_run(job_id=prepare(world, sample("toggl.csv")).pk)
    ledger_size = LedgerEntry.objects.filter(engagement=world.engagement).count()
    again = prepare(world, sample("toggl.csv"))
    assert again.preview["already_imported"] == 3
    again = import_run(job_id=again.pk)
    assert (first.created_count, again.created_count, again.skipped_count) == (3, 0, 3)
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 3
    assert LedgerEntry.objects.filter(engagement=world.engagement).count() == ledger_size


def test_a_longer_file_adds_only_its_new_rows(world: World) -> None:
    import_run(job_id=prepare(world, generic_csv(10)).pk)
    job = import_run(job_id=prepare(world, generic_csv(15)).pk)
    assert (job.created_count, job.skipped_count) == (5, 10)
    assert TimeEntry.objects.filter(engagement=world.engagement).count() == 15


def test_rows_with_the_files_own_identifier_are_imported_once(world: World) -> None:
    content = b"date,email,duration,external_id\n2026-10-01,member@provider.test,30,T-1\n"
    import_run(job_id=prepare(world, content).pk)
    changed = content.replace(b",30,", b",45,")  # same identifier: the row is already there
    job = import_run(job_id=prepare(world, changed).pk)
    assert (job.created_count, job.skipped_count) == (0, 1)


def test_an_identifier_twice_in_a_file_is_a_bad_row(world: World) -> None:
    content = (
        b"date,email,duration,external_id\n"
        b"2026-10-01,member@provider.test,30,T-1\n"
        b"2026-10-02,member@provider.test,30,T-1\n"
    )
    job = prepare(world, content)
    assert [(e["line"], e["code"], e["params"]["first"]) for e in job.errors] == [
        (3, "external_id_duplicate", "2")
    ]


def test_a_failure_in_the_middle_interrupts_and_starting_again_writes_the_rest_once(
    world: World, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = prepare(world, generic_csv(5))
    real = consumption_services.time_entries_log
    calls = []

    def failing_at_chunk_2(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(consumption_services, "time_entries_log", failing_at_chunk_2)
    with pytest.raises(RuntimeError):
        import_run(job_id=job.pk)
    job.refresh_from_db()
    # The first chunk was committed with the job's position; the second rolled back whole.
    assert job.status == ImportJob.Status.INTERRUPTED and len(calls) == 2
    assert (job.processed_rows, job.created_count) == (2, 2)
    assert TimeEntry.objects.count() == 2
    assert "RuntimeError" in services.problem_message(job.errors[0])
    assert cache.get(services.progress_key(job.pk)) is None

    monkeypatch.setattr(consumption_services, "time_entries_log", real)
    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs it
        import_confirm(membership=world.owner, job=job)  # "Start again"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.attempts == 2
    assert (job.created_count, job.skipped_count) == (5, 0)
    assert TimeEntry.objects.count() == 5
    assert LedgerEntry.objects.filter(engagement=world.engagement, kind="time_entry").count() == 5


def test_a_bad_row_found_when_the_worker_checks_again_writes_nothing(
    world: World, monkeypatch
) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    content = (
        generic_csv(5)
        .replace(b"member@", b"owner@")
        .replace(b"owner@provider.test,34", b"member@provider.test,34")
    )
    job = prepare(world, content)
    # The last row's person left the workspace between the preview and the run: the rows of
    # the first two chunks are valid, yet nothing is written.
    world.member.delete()
    job = import_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED and job.processed_rows == 0
    assert not TimeEntry.objects.exists()
    assert not LedgerEntry.objects.filter(engagement=world.engagement).exists()
    assert not Activity.objects.filter(engagement=world.engagement).exists()


def test_a_row_that_became_invalid_fails_the_whole_run(world: World) -> None:
    job = prepare(world, sample("generic.csv"))
    world.member.delete()  # Mark left the workspace between the preview and the import
    job = import_run(job_id=job.pk)
    assert job.status == ImportJob.Status.FAILED
    assert "member@provider.test" in services.problem_message(job.errors[0])
    assert not TimeEntry.objects.exists()


def test_a_client_or_a_member_who_is_not_the_lead_cannot_import(world: World) -> None:
    for persona in ("member", "finance", "client_contact", "expert"):
        with pytest.raises(PermissionDenied):
            prepare(world, sample("generic.csv"), membership=getattr(world, persona))
    with pytest.raises(PermissionDenied):
        prepare(world, sample("generic.csv"), membership=world.outsider)
    assert not ImportJob.objects.exists()


def test_the_engagement_lead_imports_for_the_team(world: World) -> None:
    Engagement.objects.filter(pk=world.engagement.pk).update(lead=world.member.user)
    world.engagement.refresh_from_db()
    job = import_run(job_id=prepare(world, sample("generic.csv"), membership=world.member).pk)
    assert job.status == ImportJob.Status.DONE and job.created_count == 4
    assert {e[2] for e in entries(world)} == {M, O}


def test_time_is_imported_on_active_or_paused_engagements_only(world: World) -> None:
    with pytest.raises(ValidationError):
        prepare(world, sample("generic.csv"), engagement=world.draft)


def test_people_are_matched_by_email_then_by_unique_full_name(world: World) -> None:
    namesake = user_create(email="mark2@provider.test", password="x", full_name="Mark  member")
    membership_add(by=world.owner, user=namesake, role="member")
    content = (
        b"date,email,duration\n"
        b"2026-10-01,MEMBER@provider.test,30\n"  # e-mail, any case
        b"2026-10-01,olivia owner,30\n"  # unique name, any case
        b"2026-10-01,Mark Member,30\n"  # two people are called so
    )
    job = prepare(world, content)
    assert [(e["line"], e["code"]) for e in job.errors] == [(4, "person_ambiguous")]


def test_a_windows_spreadsheet_file_is_read(world: World) -> None:
    content = "date;email;duration;activity\r\n2026-10-01;owner@provider.test;1,5h;Réunion\r\n"
    job = import_run(job_id=prepare(world, content.encode("cp1252")).pk)
    assert job.preview["encoding"] == "cp1252"
    assert entries(world) == [(date(2026, 10, 1), 90, O, "Réunion", "")]


def test_progress_goes_to_the_cache_and_to_the_callback(world: World, monkeypatch) -> None:
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    job = prepare(world, generic_csv(5))
    seen = []
    import_run(job_id=job.pk, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5), (5, 5)]
    assert cache.get(services.progress_key(job.pk)) == {"processed": 5, "total": 5}


def test_confirm_queues_once_and_the_task_writes(
    world: World, django_capture_on_commit_callbacks
) -> None:
    job = prepare(world, sample("generic.csv"))
    with django_capture_on_commit_callbacks(execute=True):  # the immediate backend runs it
        import_confirm(membership=world.owner, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE and job.created_count == 4
    with pytest.raises(ValidationError):
        import_confirm(membership=world.owner, job=job)
    assert import_run(job_id=job.pk).created_count == 4  # a second run does nothing
    assert TimeEntry.objects.count() == 4
    verbs = set(AuditEvent.objects.values_list("verb", flat=True))
    assert {"import.prepare", "import.confirm", "import.run"} <= verbs


def test_the_upload_is_stored_under_var_imports(world: World, var_dir) -> None:  # noqa: F811
    job = prepare(world, sample("kimai.csv"))
    assert job.stored_path == str(var_dir / "imports" / f"{job.pk}.csv")
    assert (var_dir / "imports" / f"{job.pk}.csv").read_bytes() == sample("kimai.csv")
    assert [p.name for p in (var_dir / "imports").iterdir()] == [f"{job.pk}.csv"]


def test_the_import_query_count_does_not_grow_with_the_rows(world: World, monkeypatch) -> None:
    """Prepare and run are batched: no query per row.

    Only bulk INSERTs grow, because a backend caps the parameters of one statement (SQLite: 999,
    so a few dozen rows an INSERT); every other query is the same for 10 rows or 200 (one chunk:
    each chunk is a transaction of its own, with its few queries). The clock stands still, so
    the chunk's time bound does not cut it (its first step is MIN_STEP rows, to measure the pace).
    """
    monkeypatch.setattr(services, "SQLITE_CHUNK_SIZE", services.CHUNK_SIZE)
    monkeypatch.setattr(services, "time", SimpleNamespace(monotonic=lambda: 0.0, sleep=print))

    def queries(rows: int, start: int) -> tuple[int, int, int]:
        with CaptureQueriesContext(connection) as prepared:
            job = prepare(world, generic_csv(rows, start))
        with CaptureQueriesContext(connection) as ran:
            assert import_run(job_id=job.pk).created_count == rows
        inserts = sum(q["sql"].startswith("INSERT") for q in ran.captured_queries)
        return len(prepared), len(ran) - inserts, inserts

    queries(3, 0)  # creates the two activities, which are then matched
    small = queries(2 * services.MIN_STEP, 100)
    large = queries(200, 1000)
    assert small[:2] == large[:2], (small, large)
    # Each entry also writes its ledger openings (the person's and the author's e-mail, sealed).
    assert large[2] - small[2] <= 190 // 20, (small, large)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""), ("utf-8", b"")],
)
def test_utf16_and_utf8_files_are_read_with_or_without_a_byte_order_mark(
    world: World, encoding: str, bom: bytes
) -> None:
    content = "date,email,duration,activity\n2026-10-01,owner@provider.test,90,Réunion\n"
    job = import_run(job_id=prepare(world, bom + content.encode(encoding)).pk)
    assert job.status == ImportJob.Status.DONE, job.errors
    assert entries(world) == [(date(2026, 10, 1), 90, O, "Réunion", "")]


def test_a_latin1_file_with_bytes_windows_1252_lacks_is_read(world: World) -> None:
    content = "date,email,duration,activity\n2026-10-01,owner@provider.test,90,Réunion\x81\n"
    job = import_run(job_id=prepare(world, content.encode("latin-1")).pk)
    assert job.preview["encoding"] == "latin-1" and job.status == ImportJob.Status.DONE


def test_a_nul_character_is_refused_with_its_row_and_column(world: World) -> None:
    content = (
        b"date,email,duration,note\n"
        b"2026-10-01,owner@provider.test,90,fine\n"
        b"2026-10-02,owner@provider.test,90,bad\x00note\n"
    )
    job = prepare(world, content)
    assert job.status == ImportJob.Status.INVALID
    assert [(e["line"], e["code"], e["params"]) for e in job.errors] == [
        (3, "control_character", {"column": "note"})
    ]
    assert "“note”" in services.problem_message(job.errors[0])


def test_a_row_dated_year_one_or_with_an_endless_note_is_a_bad_row_before_anything_is_written(
    world: World,
) -> None:
    content = (
        b"date,email,duration,note\n"
        b"0001-01-01,owner@provider.test,90,old\n"
        b"2026-10-02,owner@provider.test,90," + b"x" * 5001 + b"\n"
    )
    job = prepare(world, content)
    assert job.status == ImportJob.Status.INVALID
    assert [(e["line"], e["code"]) for e in job.errors] == [
        (2, "date_window"),
        (3, "note_too_long"),
    ]
    assert "0001-01-01" in services.problem_message(job.errors[0])
