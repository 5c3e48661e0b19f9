"""Date helpers that need no database."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    """Return today's date in the service's time zone (Europe/London)."""
    return timezone.localdate()


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    """Return age in completed years on a date (a 29 February birthday ages on 1 March)."""
    had_birthday = (on.month, on.day) >= (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - (0 if had_birthday else 1)


def add_months(date: dt.date, months: int) -> dt.date:
    """Return the same day `months` later, clamped to the month's last day."""
    month_index = date.month - 1 + months
    year, month = date.year + month_index // 12, month_index % 12 + 1
    next_month = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(date.day, last_day))
