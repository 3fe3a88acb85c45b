"""`confiance send-digests`: send each person's daily digest of notices (the worker runs it daily).

By default the task is enqueued for the worker; --now runs it in this process. A notice goes
into one digest only, however often it runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from confiance.core.tasks import send_daily_digests


class Command(BaseCommand):
    help = "Send the daily digest of notices to each person who asked for one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Run here instead of enqueuing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            sent = send_daily_digests.call()
            self.stdout.write(f"{sent} digest(s) sent.")
        else:
            result = send_daily_digests.enqueue()
            self.stdout.write(f"Daily digests enqueued (task {result.id}).")
