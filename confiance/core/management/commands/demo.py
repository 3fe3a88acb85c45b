"""`confiance demo`: load the demo workspace once, and print its log-ins."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from confiance.core.demo import build_demo, build_demo_logins_text


class Command(BaseCommand):
    help = "Create the demo workspace (once; running it again changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = build_demo()
        self.stdout.write("Demo workspace created." if created else "Demo workspace already there.")
        self.stdout.write(build_demo_logins_text())
