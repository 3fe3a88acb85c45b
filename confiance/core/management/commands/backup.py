"""`confiance backup [--dir DIR] [--keep N]`: archive every workspace into a folder, keeping the
N newest archives of each (BACKUP_DIR and BACKUP_KEEP by default). The task worker runs it daily
when BACKUP_DIR is set (core/schedule.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from confiance.core.archive import backups_run


class Command(BaseCommand):
    help = "Back every workspace up into a folder, with retention."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dir", default=settings.BACKUP_DIR)
        parser.add_argument("--keep", type=int, default=settings.BACKUP_KEEP)

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["dir"]:
            raise CommandError("Give --dir, or set BACKUP_DIR.")
        if options["keep"] < 1:
            raise CommandError("--keep must be 1 or more.")
        for path in backups_run(directory=Path(options["dir"]), keep=options["keep"]):
            self.stdout.write(f"  {path}")
