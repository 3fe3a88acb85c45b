"""`confiance open-pulses`: open the pulse rounds that are due (also run on schedule).

By default the task is enqueued for the worker; --now runs it in this process. Running it twice
opens nothing new.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from confiance.pulse.tasks import open_due_pulses


class Command(BaseCommand):
    help = "Open a pulse round on each engagement whose last round is older than the cadence."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Run here instead of enqueuing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            opened = open_due_pulses.call()
            self.stdout.write(f"{opened} pulse round(s) opened.")
        else:
            result = open_due_pulses.enqueue()
            self.stdout.write(f"Pulse rounds enqueued (task {result.id}).")
