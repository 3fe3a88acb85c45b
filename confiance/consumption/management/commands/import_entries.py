"""`confiance import_entries FILE --engagement ID --as EMAIL`: import time entries from a CSV.

It checks every row and prints what the import would do (or each bad row with its line), asks
for confirmation unless --yes, then writes everything or nothing, with a progress bar on stderr.
Exit code 1 when the file is rejected or the import fails.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.http import Http404

from confiance import access
from confiance.consumption.imports.formats import FORMAT_NAMES
from confiance.consumption.imports.selectors import import_problems
from confiance.consumption.imports.services import import_check, import_prepare, import_run
from confiance.consumption.models import ImportJob
from confiance.core.models import Membership
from confiance.engagements.models import Engagement


class ProgressBar:
    """A one-line bar redrawn with \\r: percentage, rows done and rows per second."""

    def __init__(self, stream: OutputWrapper, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.started = time.monotonic()

    def __call__(self, processed: int, total: int) -> None:
        share = processed / total if total else 1.0
        filled = int(self.width * share)
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%} "
            f"{processed:,}/{total:,} rows  {processed / elapsed:,.0f} rows/s",
            ending="",
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("")


class Command(BaseCommand):
    help = "Import time entries into an engagement from a Kimai, Toggl, Harvest or generic CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument("--engagement", type=int, required=True, help="The engagement's id.")
        parser.add_argument(
            "--as",
            dest="email",
            required=True,
            help="Who imports: the workspace's owner or the engagement's lead (e-mail address).",
        )
        parser.add_argument(
            "--format", choices=["auto", *FORMAT_NAMES], default="auto", dest="source_format"
        )
        parser.add_argument("--yes", action="store_true", help="Import without asking.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        engagement = Engagement.objects.filter(pk=options["engagement"]).first()
        membership = (
            Membership.objects.select_related("workspace", "user")
            .filter(user__email=options["email"].strip().lower(), workspace=engagement.workspace)
            .first()
            if engagement is not None
            else None
        )
        if membership is None or engagement is None:
            raise CommandError("No such engagement for this person.")
        try:
            engagement = access.get_engagement(membership, engagement.pk)
            with path.open("rb") as stream:
                job = import_prepare(
                    membership=membership,
                    engagement=engagement,
                    file=stream,
                    filename=path.name,
                    source_format=options["source_format"],
                )
        except (Http404, PermissionDenied):
            raise CommandError(
                "Only the workspace's owner or the engagement's lead may import time on it."
            ) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        if job.status == ImportJob.Status.CHECKING:
            # A large file is checked by the worker from the pages; here, in this process.
            job = import_check(job_id=job.pk)
        self._print_preview(job)
        if job.status == ImportJob.Status.INVALID:
            for line, reason in import_problems(job):
                self.stderr.write(f"line {line}: {reason}" if line else reason)
            shown, total = len(job.errors), job.preview.get("error_count", len(job.errors))
            if total > shown:
                self.stderr.write(f"... and {total - shown} more problems.")
            raise CommandError("The file was rejected: nothing was imported.", returncode=1)

        if not options["yes"] and not self._confirmed(job):
            self.stdout.write("Nothing imported.")
            return
        bar = ProgressBar(self.stderr)
        started = time.monotonic()
        try:
            job = import_run(job_id=job.pk, progress=bar)
        finally:
            bar.close()
        if job.status != ImportJob.Status.DONE:
            reasons = " ".join(reason for _line, reason in import_problems(job))
            raise CommandError(reasons or "The import failed.", returncode=1)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{job.created_count} entries created, {job.skipped_count} already imported "
                f"and skipped ({job.total_rows / max(elapsed, 1e-6):,.0f} rows/s)."
            )
        )

    def _print_preview(self, job: ImportJob) -> None:
        p = job.preview
        write = self.stdout.write
        write(f"File: {job.filename} ({p.get('format') or job.source_format})")
        write(f"Engagement: {job.engagement.title}")
        write(
            f"Rows: {p.get('rows', 0)}, {p.get('total_minutes', 0)} minutes"
            + (f", from {p['first_date']} to {p['last_date']}" if p.get("first_date") else "")
        )
        for person in p.get("people", []):
            write(
                f"  {person['name']} <{person['email']}>: "
                f"{person['rows']} rows, {person['minutes']} min"
            )
        matched = ", ".join(a["name"] for a in p.get("activities_matched", []))
        to_create = ", ".join(a["name"] for a in p.get("activities_to_create", []))
        if matched:
            write(f"Activities: {matched}")
        if to_create:
            write(f"Activities that will be created: {to_create}")
        if p.get("already_imported"):
            write(f"Already imported (will be skipped): {p['already_imported']}")

    def _confirmed(self, job: ImportJob) -> bool:
        if not sys.stdin.isatty():
            self.stderr.write("Not a terminal: pass --yes to import.")
            return False
        answer = input(f"Import {job.total_rows} entries? [y/N] ")
        return answer.strip().lower() in {"y", "yes", "o", "oui"}
