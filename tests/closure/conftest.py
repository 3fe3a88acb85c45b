"""Closure tests render pages in French too; the language must not leak into later tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _reset_language() -> Iterator[None]:
    yield
    translation.activate("en")
