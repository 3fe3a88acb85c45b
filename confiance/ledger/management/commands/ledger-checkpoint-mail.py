"""`confiance ledger-checkpoint-mail`: the weekly e-mail of each ledger's latest checkpoint."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from confiance.ledger.services import checkpoint_mail_send


class Command(BaseCommand):
    help = (
        "E-mail each client contact the latest signed checkpoint of its engagements' ledgers "
        "(at most weekly per engagement, only when the ledger grew)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = checkpoint_mail_send()
        self.stdout.write(f"{count} ledger(s) mailed.")
