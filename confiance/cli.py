"""The `confiance` command: Django's management commands under the project's own name."""

from __future__ import annotations

import os
import sys


def main() -> None:
    """Run `confiance <command> [args]`, e.g. `confiance serve` or `confiance demo`."""
    if sys.argv[1:2] == ["verify"]:
        # Offline bundle check: runs without Django, its settings or a database.
        from confiance.ledger.verify_cli import run

        sys.exit(run(sys.argv[2:]))
    if sys.argv[1:2] == ["witness"]:
        # A witness a client runs itself: no Django, no settings, a SQLite file of its own.
        from confiance.ledger.witness_cli import run as run_witness

        sys.exit(run_witness(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confiance.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["confiance", *sys.argv[1:]])


if __name__ == "__main__":
    main()
