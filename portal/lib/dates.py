"""The portal's one date format, for every page and email: "Nov 29, 2026" and
"Nov 29, 2026, 14:05" (local time). Templates use the ``portal_date`` and
``portal_datetime`` filters; Python code (report tables) calls these."""

from __future__ import annotations

from datetime import date, datetime

from django.utils import dateformat, timezone

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i"


def portal_date(value: date | datetime | None) -> str:
    """A day as the portal writes it; a datetime counts as its local day; None is ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return dateformat.format(value, DATE_FORMAT)


def portal_datetime(value: date | datetime | None) -> str:
    """A moment as the portal writes it, in local time; a bare day has no time; None is ""."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return portal_date(value)
    return dateformat.format(_local(value), DATETIME_FORMAT)


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value
