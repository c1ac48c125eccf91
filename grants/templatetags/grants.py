"""Template filters for grants pages: money as ``$1,250.00``; dates in the portal's one format."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django import template

from grants.money import format_money
from portal.lib import dates

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    return "" if value is None else format_money(Decimal(value))


@register.filter
def portal_date(value: date | datetime | None) -> str:
    """``{{ value|portal_date }}``: "Nov 29, 2026"."""
    return dates.portal_date(value)


@register.filter
def portal_datetime(value: date | datetime | None) -> str:
    """``{{ value|portal_datetime }}``: "Nov 29, 2026, 14:05" in local time."""
    return dates.portal_datetime(value)


@register.filter
def kind_label(kind: str) -> str:
    from grants.selectors.timeline import kind_label as label

    return label(kind)


@register.inclusion_tag("grants/includes/remaining.html")
def remaining(amount: Decimal | None) -> dict[str, object]:
    """What remains of a cap, or "over the cap by $500.00" in red: never a negative amount."""
    over = amount is not None and amount < 0
    return {"over": over, "amount": -amount if over and amount is not None else amount}
