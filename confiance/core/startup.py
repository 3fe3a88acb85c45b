"""What must hold before the server answers anyone: checked by `serve` and the WSGI app."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured

MANIFEST_NAME = "staticfiles.json"


def configuration_problems() -> list[str]:
    """Reasons not to serve: each a sentence that says what to do."""
    problems = []
    if not settings.DEBUG and not settings.SITE_URL_CONFIGURED:
        problems.append(
            "SITE_URL is not set. Without DEBUG, Confiance needs its public address to build the "
            "links it sends (invitations, e-mails, calendars): set SITE_URL, e.g. "
            "SITE_URL=https://confiance.example.com (for a local run: "
            "SITE_URL=http://127.0.0.1:8000)."
        )
    return problems


def refuse_unless_configured() -> None:
    """Raise ImproperlyConfigured, with every reason, when the server must not start."""
    problems = configuration_problems()
    if problems:
        raise ImproperlyConfigured("Confiance cannot start:\n- " + "\n- ".join(problems))


def static_files_missing() -> list[str]:
    """Static files the finders know that the collected manifest lacks (all, when none exists)."""
    manifest = Path(settings.STATIC_ROOT) / MANIFEST_NAME
    try:
        collected = set(json.loads(manifest.read_text(encoding="utf-8")).get("paths", {}))
    except (OSError, ValueError):
        collected = set()
    missing = []
    for finder in finders.get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            prefix = getattr(storage, "prefix", None)
            name = f"{prefix}/{path}" if prefix else path
            if name not in collected:
                missing.append(name)
    return missing
