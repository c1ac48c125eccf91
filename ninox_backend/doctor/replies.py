"""Reading raw replies: ints and numbers as Ninox may send them, a field's value, a
reply's shape and an error, clipped, in the words a finding shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..exceptions import NinoxError


class Unreadable(Exception):
    """A reply the doctor could not read as what it asked for."""


ABSENT = object()


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return None


def field_value(row: Any, names: Sequence[str]) -> Any:
    """A field's value in a raw record (by name, else by id); ``ABSENT`` when not there."""
    fields = row.get("fields") if isinstance(row, Mapping) else None
    if not isinstance(fields, Mapping):
        return ABSENT
    for name in names:
        if name in fields:
            return fields[name]
    return ABSENT


def shape_of(data: Any) -> str:
    if data is None:
        return "nothing"
    if isinstance(data, list):
        return f"a list of {len(data)}"
    if isinstance(data, Mapping):
        return "an object {" + ", ".join(sorted(str(k) for k in data)[:6]) + "}"
    if isinstance(data, str):
        return f"text {clip(data)}"
    return f"{type(data).__name__} {clip(data)}"


def clip(value: Any, limit: int = 60) -> str:
    text = f'"{value}"' if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short(exc: NinoxError) -> str:
    return str(exc.message)[:120]


def error_text(exc: BaseException) -> str:
    if isinstance(exc, NinoxError):
        status = f"{exc.status} " if exc.status is not None else ""
        return f"{status}({type(exc).__name__}: {short(exc)})"
    return str(exc)[:120]
