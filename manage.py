#!/usr/bin/env python
"""Django's command-line utility (the installed `confiance` command does the same)."""

from confiance.cli import main

if __name__ == "__main__":
    main()
