"""`confiance ledger-audit [--engagement ID ...] [--workspace SLUG]`: reconcile tables and ledgers.

Streams each engagement's ledger, compares every time entry, budget revision, estimate,
activity name, rate and the minutes per day with their ledgered facts, and the rollups with the
fold of the ledger (confiance/consumption/audit.py). Each result is stored and shown on the
consumption page. Prints what differs; exit code 1 when anything does. The same function,
`confiance.consumption.audit.ledger_audit`, is what a scheduler calls periodically.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from confiance.consumption.audit import ledger_audit
from confiance.core.models import Workspace
from confiance.engagements.models import Engagement


class Command(BaseCommand):
    help = "Reconcile the consumption tables and rollups with each engagement's ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engagement", type=int, action="append", help="Engagement id.")
        parser.add_argument("--workspace", help="Only this workspace (its slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = None
        if options["workspace"]:
            workspace = Workspace.objects.filter(slug=options["workspace"]).first()
            if workspace is None:
                raise CommandError(f"No workspace {options['workspace']!r}.")
        engagements = None
        if options["engagement"]:
            engagements = list(
                Engagement.objects.filter(pk__in=options["engagement"]).select_related("workspace")
            )
            missing = set(options["engagement"]) - {e.pk for e in engagements}
            if missing:
                raise CommandError(f"No engagement {sorted(missing)}.")
        reports = ledger_audit(engagements=engagements, workspace=workspace)
        failed = [r for r in reports if not r.ok]
        for report in failed:
            self.stdout.write(
                f"engagement {report.engagement_id} (tree size {report.tree_size}): "
                f"{len(report.findings) + report.truncated} difference(s)"
            )
            for finding in report.findings:
                details = ", ".join(f"{k}={v}" for k, v in finding.items() if k != "code")
                self.stdout.write(f"  {finding['code']}: {details}")
        self.stdout.write(
            f"{len(reports)} engagement(s) reconciled, {len(failed)} with differences."
        )
        if failed:
            raise SystemExit(1)
