"""`confiance remind-commitments`: remind owners of overdue commitments.

The worker also runs it on schedule (confiance/core/schedule.py).

By default the task is enqueued for the worker; --now runs it in this process.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from confiance.followup.tasks import remind_overdue_commitments


class Command(BaseCommand):
    help = "Remind the owners of overdue commitments, once per commitment and due date."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", action="store_true", help="Run here instead of enqueuing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["now"]:
            sent = remind_overdue_commitments.call()
            self.stdout.write(f"{sent} reminder(s) sent.")
        else:
            result = remind_overdue_commitments.enqueue()
            self.stdout.write(f"Reminders enqueued (task {result.id}).")
