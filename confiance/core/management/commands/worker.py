"""`confiance worker`: the background task worker alone (django-tasks-db)."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background task worker (all queues)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Run pending tasks, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("db_worker", queue_name="*", batch=options["batch"], reload=False)
