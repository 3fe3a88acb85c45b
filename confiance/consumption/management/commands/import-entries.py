"""`confiance import-entries ...`: the same command as import_entries, under its dashed name.

Django names a command after its module, and a module name cannot hold a dash when imported
with `import`; Django loads commands with importlib, which accepts it.
"""

from confiance.consumption.management.commands.import_entries import Command

__all__ = ["Command"]
