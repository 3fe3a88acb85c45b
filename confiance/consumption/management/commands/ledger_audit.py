"""`confiance ledger_audit`: the same command as ledger-audit, under an importable name."""

from importlib import import_module

Command = import_module("confiance.consumption.management.commands.ledger-audit").Command

__all__ = ["Command"]
