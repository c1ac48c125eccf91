"""Reading settings from the environment, with errors that name the variable.

django-environ parses the values; this module turns its exceptions (and our own
range checks) into one ``ImproperlyConfigured`` message that says which variable
is wrong and what it should look like, so a bad deployment fails at start.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class Settings:
    """A thin wrapper over ``environ.Env`` whose every read names the variable on error."""

    def __init__(self, env: environ.Env | None = None) -> None:
        self.env = env or environ.Env()

    def _read(self, name: str, parse: Callable[[str], T], default: Any, rule: str) -> T:
        raw = self.env.str(name, default=None)
        if raw is None or raw == "":
            if default is _REQUIRED:
                raise ImproperlyConfigured(f"{name} is required: {rule}.")
            return default
        try:
            return parse(raw)
        except (ValueError, InvalidOperation, TypeError) as exc:
            raise ImproperlyConfigured(f"{name} is malformed: {rule} (got {exc}).") from None

    def text(self, name: str, default: Any = None, *, rule: str = "a text value") -> Any:
        return self._read(name, lambda v: v, default, rule)

    def required_text(self, name: str, *, rule: str) -> str:
        return self._read(name, lambda v: v, _REQUIRED, rule)

    def boolean(self, name: str, default: bool) -> bool:
        def parse(value: str) -> bool:
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(f"{value!r} is not a boolean")

        return self._read(name, parse, default, "true or false")

    def integer(self, name: str, default: Any, *, minimum: int, maximum: int) -> Any:
        def parse(value: str) -> int:
            number = int(value.strip())
            if not minimum <= number <= maximum:
                raise ValueError(f"{number} is outside {minimum}..{maximum}")
            return number

        return self._read(name, parse, default, f"a whole number from {minimum} to {maximum}")

    def money(self, name: str, default: Any, *, minimum: Decimal = Decimal("0.01")) -> Any:
        def parse(value: str) -> Decimal:
            amount = _decimal(value)
            exponent = amount.as_tuple().exponent
            too_precise = isinstance(exponent, int) and exponent < -2
            if not amount.is_finite() or amount < minimum or too_precise:
                raise ValueError(f"{value!r} is not an amount of at least {minimum}")
            return amount.quantize(Decimal("0.01"))

        return self._read(name, parse, default, "a dollar amount like 4000.00")

    def decimal(self, name: str, default: Any, *, minimum: Decimal) -> Any:
        def parse(value: str) -> Decimal:
            number = _decimal(value)
            if not number.is_finite() or number < minimum:
                raise ValueError(f"{value!r} is below {minimum}")
            return number

        return self._read(name, parse, default, f"a decimal number of at least {minimum}")

    def month_day(self, name: str, default: Any) -> Any:
        def parse(value: str) -> tuple[int, int]:
            match = _MONTH_DAY.match(value.strip())
            if not match:
                raise ValueError(f"{value!r} is not MM-DD")
            month, day = int(match.group(1)), int(match.group(2))
            date(2001, month, day)  # a non-leap year: Feb 29 cannot start a fiscal year
            return month, day

        return self._read(name, parse, default, "a month and day like 05-01")

    def csv_list(self, name: str, default: list[str]) -> list[str]:
        return self._read(
            name,
            lambda v: [item.strip() for item in v.split(",") if item.strip()],
            default,
            "a comma-separated list",
        )

    def email(self, name: str, default: Any) -> Any:
        def parse(value: str) -> str:
            value = value.strip()
            if not re.fullmatch(r"[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+", value):
                raise ValueError(f"{value!r} is not one email address")
            return value

        return self._read(name, parse, default, "one email address")

    def url(self, name: str, default: Any, *, schemes: tuple[str, ...] = ("http", "https")) -> Any:
        def parse(value: str) -> str:
            scheme, sep, rest = value.strip().partition("://")
            rest = rest.rstrip("/")
            if scheme not in schemes or not sep or (not rest and scheme != "memory"):
                raise ValueError(f"the scheme must be one of {', '.join(schemes)}")
            return f"{scheme}://{rest}"

        return self._read(
            name,
            parse,
            default,
            f"an absolute URL starting {' or '.join(s + '://' for s in schemes)}",
        )

    def json_object(self, name: str, default: Any) -> Any:
        def parse(value: str) -> dict[str, Any]:
            import json

            loaded = json.loads(value)
            if not isinstance(loaded, dict):
                raise ValueError("not a JSON object")
            return loaded

        return self._read(name, parse, default, "a JSON object")

    def parsed(self, name: str, default: str, parse: Callable[[str], T], *, rule: str) -> T:
        """Parse with one of django-environ's URL parsers (db_url, email_url, cache_url)."""
        raw = self.env.str(name, default=default) or default

        try:
            return parse(raw)
        except (ValueError, KeyError, ImproperlyConfigured) as exc:
            # The value may hold a password: name the variable and the rule, never the value.
            raise ImproperlyConfigured(
                f"{name} is malformed: {rule} ({type(exc).__name__})."
            ) from None


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()
