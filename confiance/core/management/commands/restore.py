"""`confiance restore ARCHIVE.zip`: restore an export into this empty installation.

Every ledger is verified before anything is kept; on any failure nothing is written and the
command says which ledger or file failed, and why (exit status 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from confiance.core.archive import RestoreError, archive_restore


class Command(BaseCommand):
    help = "Restore a workspace archive into an empty installation, verifying every ledger."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("archive")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["archive"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        try:
            with path.open("rb") as source:
                report = archive_restore(
                    source=source,
                    progress=lambda t: self.stdout.write(f"  {t}"),
                )
        except RestoreError as error:
            raise CommandError(f"Nothing was restored: {error}") from None
        self.stdout.write(
            f"Restored workspace {report.workspace!r}: {report.objects} objects, "
            f"{report.ledgers} ledgers verified ({report.entries} entries)."
        )
