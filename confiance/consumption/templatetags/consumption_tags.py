"""Figures as people read them: money grouped per language, hours and days with one decimal.

Babel formats a number in ~60 µs and pages format hundreds: each result is remembered per
language (the same minutes and amounts recur on every view), which keeps the output Babel's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import formats, timezone, translation

register = template.Library()


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


@lru_cache(maxsize=8192)
def _money(amount: str, currency: str, locale: str) -> str:
    return format_currency(Decimal(amount), currency, locale=locale)


@lru_cache(maxsize=8192)
def _grouped(amount: str, locale: str) -> str:
    return format_decimal(Decimal(amount), format="#,##0.00", locale=locale)


def grouped_amount(amount: Decimal | str) -> str:
    """An amount with its two decimals, grouped per language, for a text that names its
    currency after it: '1,200.50' in English, '1 200,50' in French."""
    return _grouped(str(Decimal(str(amount))), _locale())


@lru_cache(maxsize=8192)
def _one_decimal(value: str, locale: str) -> str:
    return format_decimal(Decimal(value), format="#,##0.0", locale=locale)


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """'57 000,00 €' in French, '€57,000.00' in English; nothing for a missing amount."""
    if amount is None:
        return ""
    # Keyed by the text: Decimal("-0") equals Decimal("0") but Babel writes it "-0,00".
    return _money(str(amount), currency or "EUR", _locale())


@register.filter
def one_decimal(value: Decimal | int | None) -> str:
    """A quantity with one decimal in the reader's language: '3.5', '3,5', '1,234.0'."""
    if value is None:
        return ""
    return _one_decimal(str(Decimal(value)), _locale())


@register.filter
def hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal and the unit: '3.5 h' ('3,5 h' in French)."""
    if minutes is None:
        return ""
    return hours_in(minutes, _locale())


@lru_cache(maxsize=8192)
def hours_in(minutes: int, locale: str) -> str:
    """`hours` in a locale given (`_locale()`'s), remembered."""
    return f"{_one_decimal(str(Decimal(minutes) / 60), locale)}\u00a0h"


@register.filter
def days(minutes: int | None, minutes_per_day: int) -> str:
    """Minutes as working days with one decimal."""
    if minutes is None or not minutes_per_day:
        return ""
    return one_decimal(Decimal(minutes) / minutes_per_day)


@lru_cache(maxsize=8192)
def _short_date(day: date, language: str) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


@register.filter
def short_date(value: date | None) -> str:
    """`value|date:"SHORT_DATE_FORMAT"` remembered per day and language (a moment: local day)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return _short_date(value, translation.get_language() or "")


# `short_date` of a day in a language given (`get_language() or ""`), remembered.
short_date_in = _short_date
