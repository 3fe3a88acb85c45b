"""`confiance export-workspace SLUG ARCHIVE.zip`: one archive of the workspace (see archive.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from confiance.core.archive import workspace_export
from confiance.core.models import Workspace


class Command(BaseCommand):
    help = "Export a workspace: every object as JSON and each engagement's ledger bundle."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug")
        parser.add_argument("archive")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["slug"]).first()
        if workspace is None:
            raise CommandError(f"No workspace {options['slug']!r}.")
        target = Path(options["archive"])
        with target.open("wb") as out:
            counts = workspace_export(
                workspace=workspace,
                target=out,
                progress=lambda t: self.stdout.write(f"  {t}"),
            )
        self.stdout.write(f"Exported {sum(counts.values())} objects to {target}.")
