"""Absolute links people receive: from the configured public address (SITE_URL).

Without SITE_URL the server refuses to start unless DEBUG is on (confiance/core/startup.py); in
development, a link made during a request follows that request's host, so it works from the
address the developer actually used.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base_url(request: HttpRequest | None = None) -> str:
    """Scheme and host (no trailing slash) to put before a path in a link sent to someone."""
    if settings.SITE_URL_CONFIGURED or request is None:
        return str(settings.SITE_URL)
    return f"{request.scheme}://{request.get_host()}"
