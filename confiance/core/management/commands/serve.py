"""`confiance serve`: gunicorn (production-grade) and the task worker, stopped together.

The worker also runs the periodic jobs (trust refresh, reminders, problem checks, pulse rounds,
ledger audits, the emergence digest) on their schedule: no cron to set up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from confiance.core.startup import configuration_problems, static_files_missing


class Command(BaseCommand):
    help = "Serve Confiance with gunicorn and run the task worker beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "3")))
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the task worker (nor, with it, the periodic jobs).",
        )
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Check the configuration and collect static files, then stop.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = configuration_problems()
        if problems:
            raise CommandError("Confiance cannot start:\n- " + "\n- ".join(problems))
        missing = static_files_missing()
        if missing:
            # Nothing to remember: whatever was run before, the server starts with its files.
            self.stdout.write(
                f"{len(missing)} static files not collected yet: collecting them now (once)."
            )
            call_command("collectstatic", interactive=False, verbosity=0)
        if options["check_only"]:
            self.stdout.write("Ready to serve.")
            return
        python = sys.executable
        web = [
            python,
            "-m",
            "gunicorn",
            "confiance.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        worker = [python, "-m", "confiance.cli", "worker"]
        processes = [subprocess.Popen(web)]  # noqa: S603 - fixed argument lists
        if not options["no_worker"]:
            processes.append(subprocess.Popen(worker))  # noqa: S603
        self.stdout.write(f"Confiance on http://{options['bind']}/  (Ctrl+C stops it)")

        def stop(*_: Any) -> None:
            for p in processes:
                if p.poll() is None:
                    p.terminate()

        signal.signal(signal.SIGTERM, stop)
        try:
            # When one process dies, stop the other: a server without its worker is half a server.
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            stop()
            for p in processes:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
