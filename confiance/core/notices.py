"""Texts of in-app notices, rendered in the reader's language; each app registers its kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

Renderer = Callable[[dict[str, Any]], str]
_RENDERERS: dict[str, Renderer] = {}


def register_notice(kind: str, renderer: Renderer) -> None:
    """Declare how a kind of notice reads (called from an app's ready())."""
    _RENDERERS[kind] = renderer


def render_notice(kind: str, params: dict[str, Any]) -> str:
    renderer = _RENDERERS.get(kind)
    if renderer is None:
        return _("Notice: %(kind)s") % {"kind": kind}
    return renderer(params)
