"""Limits that make business sense, checked by the services (so pages, the API and imports obey).

A value past its column's capacity fails on PostgreSQL and is stored anyway by SQLite, then breaks
every page that reads it (a payment of 10^20, a meeting in the year 9999): the services refuse
them first, with a field error, using the checks below.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

# Dates of an engagement's facts stay within this window around the engagement (its dates, else
# today): far enough for any real contract, near enough to catch a mistyped year.
DATE_WINDOW = timedelta(days=5 * 366)
# Engagement dates themselves stay within this many years of today.
ENGAGEMENT_YEARS = 50
# Money: 14 digits with 2 decimal places in the database; a daily rate: 12 digits.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_DAILY_RATE = Decimal("999999.99")
MAX_BUDGET_DAYS = Decimal("100000")  # ~400 person-years
MAX_REMAINING_MINUTES = int(MAX_BUDGET_DAYS) * 24 * 60
MAX_LATE_LOGGING_DAYS = 365
MAX_NOTE_LENGTH = 5000


def money_error(value: Decimal, *, maximum: Decimal = MAX_AMOUNT) -> str | None:
    """Why `value` is not an amount of money we store (None when it is)."""
    if not value.is_finite():
        return _("Give a number.")
    if value > maximum:
        return _("At most %(max)s.") % {"max": f"{maximum:,}"}
    if value != value.quantize(Decimal("0.01")):
        return _("At most two decimal places.")
    return None


def window(anchor_start: date | None, anchor_end: date | None) -> tuple[date, date]:
    """The days a fact may fall on, around the engagement's dates (else today)."""
    today = timezone.localdate()
    return (anchor_start or today) - DATE_WINDOW, (anchor_end or anchor_start or today) + (
        DATE_WINDOW
    )


def date_error(day: date, *, engagement: object) -> str | None:
    """Why `day` is too far from the engagement's dates to be a fact of it (None if it is not)."""
    low, high = window(
        getattr(engagement, "start_date", None), getattr(engagement, "end_date", None)
    )
    if not low <= day <= high:
        return _("Give a date between %(low)s and %(high)s.") % {
            "low": low.isoformat(),
            "high": high.isoformat(),
        }
    return None


def engagement_date_error(day: date) -> str | None:
    """Why `day` cannot be a start or end of an engagement (None when it can)."""
    today = timezone.localdate()
    low = today.replace(year=today.year - ENGAGEMENT_YEARS, day=1)
    high = today.replace(year=today.year + ENGAGEMENT_YEARS, day=1)
    if not low <= day <= high:
        return _("Give a date between %(low)s and %(high)s.") % {
            "low": low.isoformat(),
            "high": high.isoformat(),
        }
    return None
