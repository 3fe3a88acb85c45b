"""Helpers of the tables built once in Python (consumption entries, engagement list, trust
portfolio): a row's link reversed once a table, with each row's id filled in; a text escaped."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from confiance.core.templatetags.url_remembered import reverse_remembered

_PLACEHOLDER = 999_999_999_999  # an id no table holds, replaced by each row's


def row_url(name: str, id_kwarg: str = "pk", **kwargs: Any) -> Callable[[int], str]:
    """`reverse(name, kwargs={**kwargs, id_kwarg: id})` for many ids, reversed once:
    `reverse` costs about 20 µs, a table of a hundred rows and three links a row 6 ms. The
    pattern itself is remembered per process as `{% url %}`'s links are (url_remembered)."""
    pattern = reverse_remembered(name, kwargs={**kwargs, id_kwarg: _PLACEHOLDER})
    marker = f"/{_PLACEHOLDER}/"

    def url(row_id: int) -> str:
        return pattern.replace(marker, f"/{row_id}/")

    return url


def escaped(value: object) -> str:
    """Django's `escape` without marking each value safe (the whole table is, once): the same
    text, without the lazy-string wrapper that cost a portfolio of a hundred rows 0.4 ms."""
    return html.escape(str(value))
