"""Template filters for grants pages: money as ``$1,250.00``, and the pieces pages share.

Dates are ``portal_date`` and ``portal_datetime``, built into every template
(``portal/templatetags/portal_dates.py``)."""

from __future__ import annotations

from decimal import Decimal

from django import template

from grants.money import CENT, ZERO, format_money

register = template.Library()


@register.filter
def money(value: Decimal | None) -> str:
    return "" if value is None else format_money(Decimal(value))


@register.filter
def kind_label(kind: str) -> str:
    from grants.selectors.timeline import kind_label as label

    return label(kind)


@register.inclusion_tag("grants/includes/remaining.html")
def remaining(amount: Decimal | None) -> dict[str, object]:
    """What remains of a cap, or "over the cap by $500.00" in red: never a negative amount."""
    if amount is None:
        return {"over": False, "amount": None}
    # In cents first: a float sum (SQLite's SUM) makes exactly $4,000.00 of grants
    # 4000.0000000000005, which is not over the cap (and + ZERO turns -0.00 into 0.00).
    cents = Decimal(amount).quantize(CENT) + ZERO
    over = cents < 0
    return {"over": over, "amount": -cents if over else cents}
