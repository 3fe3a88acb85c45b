"""`confiance trust-refresh`: fold new facts into trust, snapshot the day, check alerts.

The worker runs it hourly on its own (confiance/core/schedule.py); this runs it by hand.

By default the task is enqueued for the worker; --now runs it in this process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from confiance.trust.tasks import trust_refresh_all


class Command(BaseCommand):
    help = "Update every active engagement's trust, write today's snapshot, open/close alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Run here instead of enqueuing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            recorded = trust_refresh_all.call()
            self.stdout.write(f"{recorded} new fact(s) recorded.")
        else:
            result = trust_refresh_all.enqueue()
            self.stdout.write(f"Trust refresh enqueued (task {result.id}).")
