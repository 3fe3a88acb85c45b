"""`confiance check-problems`: record and notify the SLA targets missed since the last run.

The worker runs it every ten minutes (confiance/core/schedule.py); each breach is notified once,
however often it runs.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from confiance.problems.services import problem_breaches_check


class Command(BaseCommand):
    help = "Notify the owners and next escalation levels of problems whose targets were missed."

    def handle(self, *args: Any, **options: Any) -> None:
        breaches = problem_breaches_check()
        self.stdout.write(f"{len(breaches)} new breach(es) notified.")
