"""Writes of the CSV import: prepare (store, validate every row, preview), confirm, run.

The file is read streamed: once to validate and preview it, then by the worker once to check
every row again (writing nothing) and once to write it through consumption.services (so every
entry goes into the ledger) in chunks, each a short transaction that also records the job's
position and heartbeat. A bad row therefore writes nothing, no write of anyone waits long behind
an import, and an import whose worker died is resumed from its position, never written twice.

Each imported entry carries `source` (the format) and an `external_id`: the file's own identifier
of the row when it has one, else a hash of the normalised row plus its occurrence number in the
file (two identical rows are two entries). Importing the same file again therefore adds nothing.
"""

from __future__ import annotations

import codecs
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any, BinaryIO

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from confiance import access
from confiance.consumption import services as consumption_services
from confiance.consumption.imports.formats import (
    FORMAT_NAMES,
    MAX_EXTERNAL_ID,
    CsvImport,
    FormatError,
    Problem,
    Row,
)
from confiance.consumption.models import Activity, ImportJob, TimeEntry
from confiance.core import limits
from confiance.core.audit import audit_record
from confiance.core.models import Membership, Role, User
from confiance.core.taskqueue import enqueue_on_commit
from confiance.engagements.models import Engagement

CHUNK_SIZE = (
    1000  # at most this many rows written (and checked for earlier imports) per transaction
)
# ...and for at most about this long: a chunk holds the engagement's ledger lock until it commits,
# and a write to the engagement being imported into waits for it (on PostgreSQL a 1,000-row chunk
# took up to 20 s on a loaded machine). A chunk is written in steps sized to the time it has left
# at the pace measured so far, and commits when fewer than MIN_STEP rows would still fit.
CHUNK_SECONDS = 1.0
# Each step also costs a fixed few queries (checks, ledger head, rollups, audit): on a machine so
# loaded that these alone take most of CHUNK_SECONDS, steps of 10 rows wrote 10 rows a second.
# A step of at least this many rows keeps the import going at a useful rate even then.
MIN_STEP = 50
# A running import beats at least once a chunk (a second or two); silent this long, it is dead.
STALE_AFTER = timedelta(minutes=2)
# SQLite has one writer at a time, and a write waiting for the lock polls it only every 100 ms
# (its busy handler), giving up after the busy timeout (5 s). So on SQLite a chunk is smaller (it
# holds the lock for a fraction of a second, even on a busy machine) and after each one the import
# gives way for as long as it held the lock, and never less than two polls: it takes at most half
# of the writing time, and every waiting write gets in between two chunks.
SQLITE_CHUNK_SIZE = 100
SQLITE_MIN_PAUSE_SECONDS = 0.2
MAX_STORED_ERRORS = 200
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_ACTIVITY_NAME = Activity._meta.get_field("name").max_length or 80
PROGRESS_TTL = 24 * 3600
# Uploads larger than this are checked by the worker, with progress, not in the request.
CHECK_IN_REQUEST_BYTES = 512 * 1024
SOURCE_FORMATS = ("auto", *FORMAT_NAMES)

ProgressCallback = Callable[[int, int], None]

# What each problem code means, for people. Codes and their parameters are stored on the job, so
# the page shows the reasons in the reader's language.
PROBLEM_MESSAGES = {
    "empty": _("The file is empty."),
    "encoding": _("The text cannot be read: save the file as UTF-8 CSV."),
    "control_character": _(
        "A control character (such as NUL) stands in the column “%(column)s”: remove it or "
        "export the file again as CSV."
    ),
    "csv": _("The CSV cannot be read here: %(detail)s."),
    "unknown_format": _(
        "The columns are not those of a Kimai, Toggl Track or Harvest export, nor of the generic "
        "format (found: %(columns)s)."
    ),
    "missing_columns": _("Columns missing for the %(format)s format: %(columns)s."),
    "no_rows": _("The file has a header but no rows."),
    "date_missing": _("No date."),
    "date_invalid": _("Unreadable date “%(value)s”: write it as YYYY-MM-DD."),
    "date_ambiguous": _(
        "Ambiguous date “%(value)s” (day or month first?): export dates as YYYY-MM-DD."
    ),
    "date_future": _("The date %(value)s has not come yet."),
    "date_window": _(
        "The date %(value)s is far from the engagement's dates: give a date between %(low)s "
        "and %(high)s."
    ),
    "note_too_long": _("A note has at most %(max)s characters."),
    "duration_missing": _("No duration."),
    "duration_invalid": _(
        "Unreadable duration “%(value)s”: write minutes (90), hours and minutes (1:30) or "
        "decimal hours with their unit (1.5h)."
    ),
    "duration_range": _("Duration %(value)s: an entry lasts between 1 minute and 24 hours."),
    "person_missing": _("No person (e-mail address or name)."),
    "person_unknown": _(
        "“%(value)s” is not one of the provider's people (owner or member) of this workspace: "
        "invite them first, an import does not create accounts."
    ),
    "person_ambiguous": _(
        "Several people of the workspace are called “%(value)s”: use their e-mail address."
    ),
    "activity_too_long": _("The activity name “%(value)s” is longer than %(max)s characters."),
    "external_id_too_long": _("The identifier “%(value)s” is longer than %(max)s characters."),
    "external_id_duplicate": _("The identifier “%(value)s” already appears on line %(first)s."),
    "failed": _("The import stopped and wrote nothing: %(reason)s"),
    "interrupted": _(
        "The import stopped after writing part of the file (%(reason)s). Start it again to write "
        "the rest: no row is written twice."
    ),
    "worker_stopped": _(
        "The import was interrupted: the process writing it stopped. Start it again to write "
        "the rest: no row is written twice."
    ),
}


def problem_message(problem: dict[str, Any]) -> str:
    """The reason of a stored problem, in the active language."""
    template = PROBLEM_MESSAGES.get(str(problem.get("code")))
    if template is None:
        return str(problem.get("code"))
    try:
        return str(template) % problem.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(template)


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def imports_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


# ---------------------------------------------------------------------------------------------
# Matching people and activities
# ---------------------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


class _People:
    """The provider-side people (owner, member) of a workspace, by e-mail and by full name."""

    def __init__(self, workspace_id: int) -> None:
        users = (
            User.objects.filter(
                memberships__workspace_id=workspace_id,
                memberships__role__in=[Role.OWNER, Role.MEMBER],
                is_active=True,
            )
            .only("id", "email", "full_name")
            .distinct()
        )
        self.by_email: dict[str, User] = {}
        self.by_name: dict[str, list[User]] = {}
        for user in users:
            self.by_email[user.email.lower()] = user
            if user.full_name.strip():
                self.by_name.setdefault(_name_key(user.full_name), []).append(user)

    def find(self, row: Row) -> User | Problem:
        if row.email and (user := self.by_email.get(row.email.strip().lower())):
            return user
        if row.name:
            found = self.by_name.get(_name_key(row.name), [])
            if len(found) == 1:
                return found[0]
            if found:
                return Problem(row.line, "person_ambiguous", {"value": row.name})
        if not row.email and not row.name:
            return Problem(row.line, "person_missing")
        return Problem(row.line, "person_unknown", {"value": row.email or row.name})


class _Activities:
    """The engagement's activities by case-insensitive name; unknown names are created on run."""

    def __init__(self, engagement: Engagement) -> None:
        self.engagement = engagement
        self.known: dict[str, Activity] = {
            a.name.casefold(): a for a in Activity.objects.filter(engagement=engagement)
        }
        self.new_names: dict[str, str] = {}  # key -> the spelling first seen in the file

    def key(self, name: str) -> str:
        key = " ".join(name.split()).casefold()
        if key and key not in self.known:
            self.new_names.setdefault(key, " ".join(name.split()))
        return key

    def get_or_create(self, key: str, membership: Membership) -> Activity | None:
        if not key:
            return None
        if key not in self.known:
            self.known[key] = consumption_services.activity_create(
                membership=membership, engagement=self.engagement, name=self.new_names[key]
            )
        return self.known[key]


# ---------------------------------------------------------------------------------------------
# Validation (shared by prepare and run)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Valid:
    row: Row
    person: User
    activity_key: str
    external_id: str


def _row_digest(row: Row, person: User) -> str:
    # The row as it will be stored: the same entry written differently (spaces, case of the
    # activity, "1:30" or "90") hashes the same.
    canonical = "\x1f".join(
        [
            row.date.isoformat(),
            str(person.pk),
            str(row.minutes),
            " ".join(row.activity.split()).casefold(),
            row.note.strip(),
            row.internal_note.strip(),
        ]
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _validated(
    reader: Iterable[Row | Problem], people: _People, activities: _Activities
) -> Iterator[_Valid | Problem]:
    """Each row checked against the workspace and the rules of consumption.services."""
    latest_day = timezone.localdate() + timedelta(days=1)  # the rule of time_entries_log
    occurrences: dict[str, int] = {}
    identifiers: dict[str, int] = {}
    for item in reader:
        if isinstance(item, Problem):
            yield item
            continue
        row = item
        problems: list[Problem] = []
        if row.date > latest_day:
            problems.append(Problem(row.line, "date_future", {"value": row.date.isoformat()}))
        if not 0 < row.minutes <= consumption_services.MAX_MINUTES_PER_ENTRY:
            problems.append(Problem(row.line, "duration_range", {"value": str(row.minutes)}))
        low, high = limits.window(activities.engagement.start_date, activities.engagement.end_date)
        if row.date <= latest_day and not low <= row.date <= high:
            problems.append(
                Problem(
                    row.line,
                    "date_window",
                    {
                        "value": row.date.isoformat(),
                        "low": low.isoformat(),
                        "high": high.isoformat(),
                    },
                )
            )
        if max(len(row.note), len(row.internal_note)) > limits.MAX_NOTE_LENGTH:
            problems.append(
                Problem(row.line, "note_too_long", {"max": str(limits.MAX_NOTE_LENGTH)})
            )
        person = people.find(row)
        if isinstance(person, Problem):
            problems.append(person)
        if len(" ".join(row.activity.split())) > MAX_ACTIVITY_NAME:
            problems.append(
                Problem(
                    row.line,
                    "activity_too_long",
                    {"value": row.activity[:60], "max": str(MAX_ACTIVITY_NAME)},
                )
            )
        if len(row.external_id) > MAX_EXTERNAL_ID:
            problems.append(
                Problem(
                    row.line,
                    "external_id_too_long",
                    {"value": row.external_id[:60], "max": str(MAX_EXTERNAL_ID)},
                )
            )
        elif row.external_id:
            first = identifiers.setdefault(row.external_id, row.line)
            if first != row.line:
                problems.append(
                    Problem(
                        row.line,
                        "external_id_duplicate",
                        {"value": row.external_id, "first": str(first)},
                    )
                )
        if problems:
            yield from problems
            continue
        assert isinstance(person, User)
        if row.external_id:
            external_id = f"id:{row.external_id}"
        else:
            digest = _row_digest(row, person)
            occurrences[digest] = occurrence = occurrences.get(digest, 0) + 1
            external_id = f"h:{digest}:{occurrence}"
        yield _Valid(row, person, activities.key(row.activity), external_id)


def _already_imported(engagement: Engagement, source: str, external_ids: list[str]) -> set[str]:
    """Which of these identifiers are already entries of the engagement: one query."""
    return set(
        TimeEntry.objects.filter(
            engagement=engagement, source=source, external_id__in=external_ids
        ).values_list("external_id", flat=True)
    )


def _chunks(items: Iterable[_Valid | Problem], size: int) -> Iterator[list[_Valid | Problem]]:
    chunk: list[_Valid | Problem] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# ---------------------------------------------------------------------------------------------
# Prepare
# ---------------------------------------------------------------------------------------------


def _bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark announces (spreadsheets save "Unicode text" as UTF-16)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a mark: every other byte of an ASCII header is NUL.
    if len(head) >= 8 and head[1:8:2] == b"\0\0\0\0" and b"\0" not in head[0:8:2]:
        return "utf-16-le"
    if len(head) >= 8 and head[0:8:2] == b"\0\0\0\0" and b"\0" not in head[1:8:2]:
        return "utf-16-be"
    return None


def _store(file: IO[bytes] | Any, path: Path) -> str:
    """Copy the upload to `path` in chunks; return the encoding to read it with.

    A byte-order mark decides (UTF-8, UTF-16); else UTF-8 if the whole file decodes as UTF-8,
    else Windows-1252 (a spreadsheet's Western code page), else Latin-1 (which reads any byte).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ("utf-8", "cp1252")}
    size, head, marked = 0, b"", None
    chunks = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(1 << 16), b"")
    with path.open("wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ValidationError(
                    gettext("The file is larger than %(max)d MB.") % {"max": MAX_FILE_BYTES >> 20}
                )
            if len(head) < 8:
                head = (head + chunk)[:8]
                marked = _bom_encoding(head)
            if marked is None:
                for name, decoder in list(decoders.items()):
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        del decoders[name]
            out.write(chunk)
    if marked is not None:
        return marked
    for name, decoder in list(decoders.items()):
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            del decoders[name]
    if "utf-8" in decoders:
        return "utf-8-sig"
    return "cp1252" if "cp1252" in decoders else "latin-1"


class _Preview:
    """The summary built while validating: counts, people, activities, errors (capped)."""

    def __init__(self) -> None:
        self.rows = 0
        self.minutes = 0
        self.first_date: date | None = None
        self.last_date: date | None = None
        self.people: dict[int, dict[str, Any]] = {}
        self.activity_rows: dict[str, int] = {}
        self.no_activity = 0
        self.already = 0
        self.errors: list[dict[str, object]] = []
        self.error_count = 0
        self.bad_lines = 0
        self._last_bad_line: int | None = None

    def problem(self, problem: Problem) -> None:
        self.error_count += 1
        if problem.line is None or problem.line != self._last_bad_line:
            self.bad_lines += 1
            self._last_bad_line = problem.line
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(problem.as_dict())

    def valid(self, item: _Valid) -> None:
        row = item.row
        self.rows += 1
        self.minutes += row.minutes
        self.first_date = min(self.first_date or row.date, row.date)
        self.last_date = max(self.last_date or row.date, row.date)
        person = self.people.setdefault(
            item.person.pk,
            {
                "name": item.person.get_full_name(),
                "email": item.person.email,
                "rows": 0,
                "minutes": 0,
            },
        )
        person["rows"] += 1
        person["minutes"] += row.minutes
        if item.activity_key:
            self.activity_rows[item.activity_key] = self.activity_rows.get(item.activity_key, 0) + 1
        else:
            self.no_activity += 1

    def as_dict(self, reader: CsvImport | None, encoding: str, activities: _Activities) -> dict:
        def listed(keys: Iterable[str], names: dict[str, str]) -> list[dict[str, object]]:
            return sorted(
                ({"name": names[k], "rows": self.activity_rows[k]} for k in keys),
                key=lambda a: str(a["name"]).casefold(),
            )

        known = {k: a.name for k, a in activities.known.items()}
        return {
            "format": reader.layout.name if reader else "",
            "delimiter": reader.delimiter if reader else "",
            "encoding": encoding,
            "rows": self.rows,
            "total_minutes": self.minutes,
            "first_date": self.first_date.isoformat() if self.first_date else None,
            "last_date": self.last_date.isoformat() if self.last_date else None,
            "people": sorted(self.people.values(), key=lambda p: str(p["name"]).casefold()),
            "activities_matched": listed((k for k in self.activity_rows if k in known), known),
            "activities_to_create": listed(
                (k for k in self.activity_rows if k not in known), activities.new_names
            ),
            "rows_without_activity": self.no_activity,
            "already_imported": self.already,
            "bad_rows": self.bad_lines,
            "error_count": self.error_count,
        }


def import_prepare(
    *,
    membership: Membership,
    engagement: Engagement,
    file: IO[bytes] | Any,
    filename: str,
    source_format: str = "auto",
) -> ImportJob:
    """Store an upload and validate every row of it; the job says what importing would do.

    A file with any bad row is rejected (status INVALID) with each row's line and reason.
    """
    if engagement.workspace_id != membership.workspace_id or not access.can_log_time_for_others(
        membership, engagement
    ):
        raise PermissionDenied
    if engagement.status not in consumption_services.LOGGABLE_STATUSES:
        raise ValidationError(
            gettext("Time is logged on active or paused engagements only (this one is %(status)s).")
            % {"status": engagement.get_status_display()}
        )
    if source_format not in SOURCE_FORMATS:
        raise ValidationError({"source_format": gettext("Unknown format.")})
    temporary = imports_dir() / f"upload-{uuid.uuid4().hex}.csv"
    try:
        encoding = _store(file, temporary)
        if temporary.stat().st_size > CHECK_IN_REQUEST_BYTES:
            return _prepare_later(
                membership, engagement, temporary, filename, source_format, encoding
            )
        preview, summary = _preview_file(engagement, temporary, source_format, encoding)
        with transaction.atomic():
            job = ImportJob.objects.create(
                workspace_id=engagement.workspace_id,
                engagement=engagement,
                created_by=membership.user,
                source_format=summary["format"] or source_format,
                filename=filename[:255],
                stored_path="",
                status=ImportJob.Status.INVALID
                if preview.error_count
                else ImportJob.Status.PREVIEW,
                total_rows=preview.rows,
                errors=preview.errors,
                preview=summary,
            )
            stored = imports_dir() / f"{job.pk}.csv"
            temporary.replace(stored)
            job.stored_path = str(stored)
            job.save(update_fields=["stored_path"])
            audit_record(
                verb="import.prepare",
                actor=membership.user,
                workspace=membership.workspace,
                target=job,
                data={"file": job.filename, "rows": preview.rows, "errors": preview.error_count},
            )
    finally:
        temporary.unlink(missing_ok=True)
    return job


# ---------------------------------------------------------------------------------------------
# Confirm and run
# ---------------------------------------------------------------------------------------------


def _preview_file(
    engagement: Engagement,
    path: Path,
    source_format: str,
    encoding: str,
    beat: Callable[[int, float], None] | None = None,
) -> tuple[_Preview, dict[str, Any]]:
    """Validate every row of a stored file: what importing it would do (writes nothing).

    `beat(rows checked, share of the file read)` is called after each chunk.
    """
    preview, reader = _Preview(), None
    activities = _Activities(engagement)
    size = max(1, path.stat().st_size)
    with path.open("rb") as stream:
        try:
            reader = CsvImport(stream, source_format=source_format, encoding=encoding)
        except FormatError as error:
            preview.problem(error.problem)
        else:
            source = reader.layout.name
            checked = _validated(reader, _People(engagement.workspace_id), activities)
            for chunk in _chunks(checked, CHUNK_SIZE):
                valid = [item for item in chunk if isinstance(item, _Valid)]
                for item in chunk:
                    if isinstance(item, _Valid):
                        preview.valid(item)
                    else:
                        preview.problem(item)
                if valid and not preview.error_count:
                    ids = [item.external_id for item in valid]
                    preview.already += len(_already_imported(engagement, source, ids))
                if beat is not None:
                    beat(preview.rows + preview.error_count, min(1.0, stream.tell() / size))
            if not preview.rows and not preview.error_count:
                preview.problem(Problem(None, "no_rows"))
    return preview, preview.as_dict(reader, encoding, activities)


def _prepare_later(
    membership: Membership,
    engagement: Engagement,
    temporary: Path,
    filename: str,
    source_format: str,
    encoding: str,
) -> ImportJob:
    """Keep a large upload and let the worker check it: the request returns at once."""
    from confiance.consumption.imports.tasks import check_import

    with transaction.atomic():
        job = ImportJob.objects.create(
            workspace_id=engagement.workspace_id,
            engagement=engagement,
            created_by=membership.user,
            source_format=source_format,
            filename=filename[:255],
            stored_path="",
            status=ImportJob.Status.CHECKING,
            heartbeat_at=timezone.now(),
            total_rows=0,
            errors=[],
            preview={"encoding": encoding},
        )
        stored = imports_dir() / f"{job.pk}.csv"
        temporary.replace(stored)
        job.stored_path = str(stored)
        job.save(update_fields=["stored_path"])
        audit_record(
            verb="import.upload",
            actor=membership.user,
            workspace=membership.workspace,
            target=job,
            data={"file": job.filename, "bytes": stored.stat().st_size},
        )
        enqueue_on_commit(check_import, job.pk)
    return job


def import_check(*, job_id: int) -> ImportJob:
    """The worker checks a large upload: the same checks as a small one's, with progress.

    Writes no entry; the job ends ready to import (PREVIEW) or rejected (INVALID) with each bad
    row named. Idempotent: a job no longer being checked is left as it is.
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.CHECKING).update(
        heartbeat_at=now
    )
    job = ImportJob.objects.select_related("engagement__workspace").get(pk=job_id)
    if not claimed:
        return job
    encoding = str(job.preview.get("encoding") or "utf-8-sig")

    def beat(rows: int, share: float) -> None:
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.CHECKING).update(
            heartbeat_at=timezone.now()
        )
        cache.set(
            progress_key(job.pk),
            {"processed": int(share * 1000), "total": 1000, "rows": rows},
            PROGRESS_TTL,
        )

    try:
        preview, summary = _preview_file(
            job.engagement, Path(job.stored_path), job.source_format, encoding, beat
        )
    except Exception as error:
        job.status = ImportJob.Status.FAILED
        job.errors = [Problem(None, "failed", {"reason": error.__class__.__name__}).as_dict()]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "errors", "finished_at"])
        cache.delete(progress_key(job.pk))
        raise
    job.status = ImportJob.Status.INVALID if preview.error_count else ImportJob.Status.PREVIEW
    job.source_format = summary["format"] or job.source_format
    job.total_rows = preview.rows
    job.errors = preview.errors
    job.preview = summary
    job.save(update_fields=["status", "source_format", "total_rows", "errors", "preview"])
    cache.delete(progress_key(job.pk))
    audit_record(
        verb="import.prepare",
        actor=job.created_by,
        workspace=job.engagement.workspace,
        target=job,
        data={"file": job.filename, "rows": preview.rows, "errors": preview.error_count},
    )
    return job


def import_is_stalled(job: ImportJob, *, now: datetime | None = None) -> bool:
    """A running (or checking) import whose worker stopped beating: its process died."""
    if job.status not in (ImportJob.Status.RUNNING, ImportJob.Status.CHECKING):
        return False
    beat = job.heartbeat_at or job.created_at
    return beat < (now or timezone.now()) - STALE_AFTER


@transaction.atomic
def import_confirm(*, membership: Membership, job: ImportJob) -> ImportJob:
    """Queue a previewed import, or start an interrupted one again; the worker writes it.

    Starting again is idempotent: rows written by the earlier attempt are not written twice.
    """
    from confiance.consumption.imports.tasks import run_import

    if job.workspace_id != membership.workspace_id or not access.can_log_time_for_others(
        membership, job.engagement
    ):
        raise PermissionDenied
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    restart = job.status == ImportJob.Status.INTERRUPTED or import_is_stalled(job)
    if job.status != ImportJob.Status.PREVIEW and not restart:
        raise ValidationError(
            gettext("This import cannot be started: it is “%(status)s”.")
            % {"status": job.get_status_display()}
        )
    job.status = ImportJob.Status.QUEUED
    job.errors = []
    job.heartbeat_at = timezone.now()
    job.save(update_fields=["status", "errors", "heartbeat_at"])
    cache.set(
        progress_key(job.pk),
        {"processed": job.processed_rows, "total": job.total_rows},
        PROGRESS_TTL,
    )
    audit_record(
        verb="import.restart" if restart else "import.confirm",
        actor=membership.user,
        workspace=membership.workspace,
        target=job,
    )
    enqueue_on_commit(run_import, job.pk)
    return job


def imports_recover_stalled(*, now: datetime | None = None) -> int:
    """Mark as interrupted the running imports whose worker died; the page offers to start again."""
    now = now or timezone.now()
    stalled = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).filter(
        Q(heartbeat_at__lt=now - STALE_AFTER)
        | Q(heartbeat_at__isnull=True, created_at__lt=now - STALE_AFTER)
    )
    reason = Problem(None, "worker_stopped").as_dict()
    count = stalled.update(status=ImportJob.Status.INTERRUPTED, errors=[reason], finished_at=now)
    # A check writes nothing: one whose worker died is simply checked again.
    from confiance.consumption.imports.tasks import check_import

    checking = ImportJob.objects.filter(status=ImportJob.Status.CHECKING).filter(
        Q(heartbeat_at__lt=now - STALE_AFTER)
        | Q(heartbeat_at__isnull=True, created_at__lt=now - STALE_AFTER)
    )
    for pk in list(checking.values_list("pk", flat=True)):
        if ImportJob.objects.filter(pk=pk, status=ImportJob.Status.CHECKING).update(
            heartbeat_at=now
        ):
            check_import.enqueue(pk)
            count += 1
    return count


def _beat(job: ImportJob, **fields: Any) -> None:
    """Record the worker's heartbeat (and `fields`) on the job, as the running attempt."""
    job.heartbeat_at = timezone.now()
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        heartbeat_at=job.heartbeat_at, **fields
    )


def import_run(*, job_id: int, progress: ProgressCallback | None = None) -> ImportJob:
    """Write a previewed or queued import; other states are left as they are.

    First every row is checked again against the workspace as it is now, writing nothing: a bad
    row fails the whole import, nothing written. Then the rows are written in chunks of at most
    CHUNK_SIZE rows (SQLITE_CHUNK_SIZE on SQLite, with a pause after each) and about
    CHUNK_SECONDS, each in its own transaction with the job's position, so no write waits long
    on the import. If the worker
    stops mid-way the import is INTERRUPTED (never left "running") and starting it again writes
    the rest: rows already written are not written twice.

    Rows already imported by an earlier import (same source and identifier) are skipped and
    counted. Progress goes to the cache (`progress_key(job_id)`) and to `progress(done, total)`.
    """
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportJob.Status.PREVIEW, ImportJob.Status.QUEUED]
    ).update(status=ImportJob.Status.RUNNING, heartbeat_at=now, attempts=F("attempts") + 1)
    job = ImportJob.objects.select_related("engagement__workspace", "created_by").get(pk=job_id)
    if not claimed:
        return job

    def report(processed: int) -> None:
        cache.set(
            progress_key(job.pk), {"processed": processed, "total": job.total_rows}, PROGRESS_TTL
        )
        if progress is not None:
            progress(processed, job.total_rows)

    try:
        membership = _importer(job)
        _check(job, membership)
        _write(job, membership, report)
    except Exception as error:
        reason = (
            " ".join(error.messages)
            if isinstance(error, ValidationError)
            else gettext("you are no longer allowed to import time on this engagement.")
            if isinstance(error, PermissionDenied)
            else error.__class__.__name__
        )
        # Nothing written yet: the import failed and wrote nothing. Part written: it can go on.
        job.processed_rows = ImportJob.objects.values_list("processed_rows", flat=True).get(
            pk=job.pk
        )
        written = job.processed_rows > 0
        job.status = ImportJob.Status.INTERRUPTED if written else ImportJob.Status.FAILED
        code = "interrupted" if written else "failed"
        job.errors = [Problem(None, code, {"reason": reason}).as_dict()]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "errors", "finished_at"])
        cache.delete(progress_key(job.pk))
        if isinstance(error, ValidationError | PermissionDenied):
            return job
        raise
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "finished_at"])
    audit_record(
        verb="import.run",
        actor=job.created_by,
        workspace=job.engagement.workspace,
        target=job,
        data={"created": job.created_count, "skipped": job.skipped_count},
    )
    report(job.total_rows)
    return job


def _importer(job: ImportJob) -> Membership:
    """The membership the import writes as, if it may still import on the engagement."""
    membership = (
        Membership.objects.select_related("workspace", "user")
        .filter(user=job.created_by, workspace_id=job.workspace_id)
        .first()
    )
    if membership is None or not access.can_log_time_for_others(membership, job.engagement):
        raise PermissionDenied
    return membership


def _reader(job: ImportJob, stream: BinaryIO) -> CsvImport:
    try:
        return CsvImport(
            stream,
            source_format=job.source_format,
            encoding=job.preview.get("encoding", "utf-8-sig"),
        )
    except FormatError as error:
        raise ValidationError(problem_message(error.problem.as_dict())) from None


def _check(job: ImportJob, membership: Membership) -> None:
    """Every row valid against the workspace as it is now, or ValidationError naming the line.

    Reads only: a bad row fails the import before anything is written.
    """
    engagement = job.engagement
    if engagement.status not in consumption_services.LOGGABLE_STATUSES:
        raise ValidationError(
            gettext("Time is logged on active or paused engagements only (this one is %(status)s).")
            % {"status": engagement.get_status_display()}
        )
    people, activities = _People(engagement.workspace_id), _Activities(engagement)
    with open(job.stored_path, "rb") as stream:
        checked = _validated(_reader(job, stream), people, activities)
        for position, item in enumerate(checked):
            if isinstance(item, Problem):
                raise ValidationError(
                    gettext("Line %(line)s: %(reason)s")
                    % {"line": item.line, "reason": problem_message(item.as_dict())}
                )
            if position % CHUNK_SIZE == CHUNK_SIZE - 1:
                _beat(job)


class _Pace:
    """Seconds per row of the latest steps (weighted towards the latest: the machine's load
    varies), to size each step of a chunk to the time the chunk has left."""

    def __init__(self) -> None:
        self.per_row: float | None = None

    def measured(self, rows: int, seconds: float) -> None:
        latest = seconds / rows
        self.per_row = latest if self.per_row is None else (self.per_row + latest) / 2

    def rows_within(self, seconds: float) -> int:
        if self.per_row is None:
            return MIN_STEP  # the first step measures the pace
        if self.per_row <= 0:
            return CHUNK_SIZE
        return max(0, int(seconds / self.per_row))


def _write(job: ImportJob, membership: Membership, report: Callable[[int], None]) -> None:
    """Write the checked rows chunk by chunk, each chunk committed with the job's position.

    A chunk ends after CHUNK_SECONDS (or CHUNK_SIZE rows), so a write to the engagement waits at
    most about that long for the engagement's ledger lock. The rows before the job's position
    were committed by an earlier attempt: they are passed over.
    """
    engagement = job.engagement
    source = job.source_format
    activities = _Activities(engagement)
    people = _People(engagement.workspace_id)
    sqlite = connection.vendor == "sqlite"
    most = min(CHUNK_SIZE, SQLITE_CHUNK_SIZE) if sqlite else CHUNK_SIZE
    pace = _Pace()
    processed = job.processed_rows
    report(processed)

    def write(valid: list[_Valid]) -> int:
        """One step: the rows not imported before, through the service; how many it created."""
        existing = _already_imported(engagement, source, [v.external_id for v in valid])
        items = [
            consumption_services.EntryInput(
                person=v.person,
                date=v.row.date,
                minutes=v.row.minutes,
                activity=activities.get_or_create(v.activity_key, membership),
                shared_note=v.row.note,
                internal_note=v.row.internal_note,
                source=source,
                external_id=v.external_id,
            )
            for v in valid
            if v.external_id not in existing
        ]
        if items:
            consumption_services.time_entries_log(
                membership=membership, engagement=engagement, items=items
            )
        return len(items)

    with open(job.stored_path, "rb") as stream:
        checked = _validated(_reader(job, stream), people, activities)
        rows = islice((item for item in checked if isinstance(item, _Valid)), processed, None)
        more = True
        while more:
            with transaction.atomic():
                started = time.monotonic()  # on SQLite, BEGIN IMMEDIATE took the write lock
                written = created = 0
                while written < most:
                    fit = pace.rows_within(CHUNK_SECONDS - (time.monotonic() - started))
                    if written and fit < MIN_STEP:
                        break  # the chunk's time is spent: commit, let waiting writes in
                    wanted = min(max(fit, MIN_STEP), most - written)
                    valid = list(islice(rows, wanted))
                    if valid:
                        step_started = time.monotonic()
                        created += write(valid)
                        pace.measured(len(valid), time.monotonic() - step_started)
                        written += len(valid)
                    if len(valid) < wanted:
                        more = False  # the end of the file
                        break
                if not written:
                    break
                processed += written
                _beat(
                    job,
                    processed_rows=processed,
                    created_count=job.created_count + created,
                    skipped_count=job.skipped_count + written - created,
                )
            held = time.monotonic() - started
            report(processed)
            if sqlite:
                # Let the writes waiting for SQLite's single write lock in before the next chunk.
                time.sleep(max(SQLITE_MIN_PAUSE_SECONDS, held))
