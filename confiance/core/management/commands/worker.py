"""`confiance worker`: the background task worker (django-tasks-db) with its heartbeat.

Run several for more throughput; each beats, and any of them fails cleanly the tasks of a worker
that died and marks its imports interrupted (confiance/core/worker.py). Each also runs the
periodic jobs when they are due (confiance/core/schedule.py), never two workers the same job.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from confiance.core.worker import HeartbeatWorker


class Command(BaseCommand):
    help = "Run the background task worker (all queues)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", action="store_true", help="Run pending tasks, then exit.")
        parser.add_argument("--queue-name", default="*", help="Queues, comma-separated (* = all).")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls.")
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="Do not run the periodic jobs (another worker does).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker = HeartbeatWorker(
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        worker.run_schedule = not options["no_schedule"]
        worker.configure_signals()
        worker.run()
