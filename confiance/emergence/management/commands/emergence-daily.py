"""`confiance emergence-daily`: settle nominations after their quiet period.

By default the task is enqueued for the worker; --now runs it in this process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from confiance.emergence.tasks import emergence_daily


class Command(BaseCommand):
    help = "Accept nominations endorsed without objection for the quiet period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Run here instead of enqueuing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            self.stdout.write(emergence_daily.call())
        else:
            result = emergence_daily.enqueue()
            self.stdout.write(f"Enqueued (task {result.id}).")
