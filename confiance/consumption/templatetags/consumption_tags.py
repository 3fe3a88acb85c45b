"""Figures as people read them: money grouped per language, hours and days with one decimal."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from django import template
from django.utils import translation

register = template.Library()


def _locale() -> str:
    return (translation.get_language() or "en").replace("-", "_")


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """'57 000,00 €' in French, '€57,000.00' in English; nothing for a missing amount."""
    if amount is None:
        return ""
    return format_currency(amount, currency or "EUR", locale=_locale())


@register.filter
def one_decimal(value: Decimal | int | None) -> str:
    """A quantity with one decimal in the reader's language: '3.5', '3,5', '1,234.0'."""
    if value is None:
        return ""
    return format_decimal(Decimal(value), format="#,##0.0", locale=_locale())


@register.filter
def hours(minutes: int | None) -> str:
    """Minutes as hours with one decimal and the unit: '3.5 h' ('3,5 h' in French)."""
    if minutes is None:
        return ""
    return f"{one_decimal(Decimal(minutes) / 60)}\u00a0h"


@register.filter
def days(minutes: int | None, minutes_per_day: int) -> str:
    """Minutes as working days with one decimal."""
    if minutes is None or not minutes_per_day:
        return ""
    return one_decimal(Decimal(minutes) / minutes_per_day)
