"""The portal's one date format as template filters, built into every template
(``TEMPLATES[0]["OPTIONS"]["builtins"]``): no page or email needs to load them."""

from __future__ import annotations

from datetime import date, datetime

from django import template

from portal.lib import dates

register = template.Library()


@register.filter
def portal_date(value: date | datetime | None) -> str:
    """``{{ value|portal_date }}``: "Nov 29, 2026"."""
    return dates.portal_date(value)


@register.filter
def portal_datetime(value: date | datetime | None) -> str:
    """``{{ value|portal_datetime }}``: "Nov 29, 2026, 14:05" in local time."""
    return dates.portal_datetime(value)
