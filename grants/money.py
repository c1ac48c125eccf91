"""Money: parsing what people and programs type, cents, and the `$1,250.00` display.

Money is a `Decimal` with two places, in US dollars; never a float.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Up to twelve integer digits: large enough that range rules, not the parser, refuse big amounts.
_STRICT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")
_LENIENT = re.compile(r"\$?(0|[1-9][0-9]{0,11}|[1-9][0-9]{0,2}(?:,[0-9]{3}){1,3})(\.[0-9]{1,2})?")
_TOO_PRECISE = re.compile(r"\$?[0-9,]*\.[0-9]{3,}")
_TOO_LARGE = re.compile(r"\$?[1-9][0-9,]{12,}(\.[0-9]*)?")
_ASCII_DIGITS = frozenset("0123456789")


def parse_amount(text: str, *, lenient: bool, label: str = "Amount") -> Decimal:
    """Parse a dollar amount into a `Decimal` with exactly two places.

    Strict (the JSON API): a plain decimal string such as ``"1250"``, ``"1250.5"`` or
    ``"1250.00"``: ASCII digits, no leading zeros, at most two decimal places, no sign,
    exponent, spaces, ``NaN`` or ``Infinity``. Lenient (the web form) also accepts
    surrounding whitespace, a leading ``$`` and correctly placed thousands commas
    (``$1,250.00``). Raises `ValueError` whose message starts with ``label`` and says the rule.
    """
    candidate = text.strip() if lenient else text
    pattern = _LENIENT if lenient else _STRICT
    match = pattern.fullmatch(candidate)
    if match is None:
        raise ValueError(_why_not_an_amount(candidate, lenient=lenient, label=label))
    return Decimal(candidate.lstrip("$").replace(",", "")).quantize(CENT)


def _why_not_an_amount(text: str, *, lenient: bool, label: str) -> str:
    example = "$1,250.00 or 1250.00" if lenient else '"1250.00"'
    if not text.strip():
        return f"{label} is required."
    if any(ch not in _ASCII_DIGITS and unicodedata.digit(ch, None) is not None for ch in text):
        return f"{label} must be written with the digits 0-9 only, like {example}."
    if text.lstrip("$ ").startswith("-"):
        return f"{label} must not be negative."
    if _TOO_PRECISE.fullmatch(text):
        return f"{label} must have at most two decimal places (whole cents), like {example}."
    if _TOO_LARGE.fullmatch(text):
        return f"{label} is far too large."
    if lenient:
        return (
            f"{label} must be a dollar amount like {example}: digits, with commas only "
            "between groups of three, and at most two decimal places."
        )
    return (
        f"{label} must be a plain decimal string like {example}: digits with at most two "
        "decimal places, and no dollar sign, commas, spaces, sign or exponent."
    )


def to_cents(amount: Decimal) -> int:
    """Whole cents in ``amount``; `ValueError` if it is not finite or has a fraction of a cent."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money.")
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has a fraction of a cent.")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """The amount ``cents`` stands for, with exactly two places (``125000`` → ``1250.00``)."""
    return Decimal(cents).scaleb(-2).quantize(CENT)


def format_money(amount: Decimal) -> str:
    """``$1,250.00``; a negative amount as ``-$5.00``. Rounds half-up to the cent."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not an amount of money.")
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"
