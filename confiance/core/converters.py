"""URL converters: an id is a number the database can hold, else the URL does not match (404)."""

from __future__ import annotations

from django.urls import register_converter


class IdConverter:
    """A positive integer of at most 18 digits (below 2^63): /people/99999999999999999999/
    answers 404 instead of overflowing the database driver."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def register() -> None:
    register_converter(IdConverter, "id")
