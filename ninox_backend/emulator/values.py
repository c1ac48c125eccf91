"""Field values: validation of writes, the stored form, the JSON form, the NX form.

Stored forms (JSON inside SQLite): text-like types, time, timeinterval, appointment,
location, file and image as strings; number as a canonical decimal *string* (exact);
date ``YYYY-MM-DD``; datetime ``YYYY-MM-DDTHH:MM:SS`` (UTC); boolean as bool; choice as
the option id (int); multi as a list of option ids; reference as the linked id (int).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .schema import Field

TEXT_TYPES = frozenset(("text", "email", "phone", "url", "html", "location", "file", "image"))
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")
_INTERVAL = re.compile(r"^-?\d+:\d{2}(:\d{2}(\.\d{1,6})?)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldValueError(ValueError):
    """A value that does not fit its field (answered as 422, naming the field)."""

    def __init__(self, field: Field, message: str) -> None:
        super().__init__(f"field {field.name!r} ({field.type}): {message}")
        self.field = field


def decimal_text(value: Decimal) -> str:
    """Canonical text of a decimal: ``1250.10`` → ``1250.1``, ``1E+2`` → ``100``."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def parse_decimal(value: Any) -> Decimal | None:
    """A Decimal from a JSON number or numeric string, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    return result if result.is_finite() else None


def parse_datetime(value: str) -> datetime | None:
    """A naive UTC datetime from ISO text (a zone, if given, is converted to UTC)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def to_storage(field: Field, value: Any) -> Any:
    """Validate a written value and return its stored form (None clears the field).

    Raises :class:`FieldValueError`. A reference is not checked for existence here.
    """
    if value is None:
        return None
    kind = field.type
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            raise FieldValueError(field, f"expected text, got {value!r}")
        return value
    if kind == "number":
        number = parse_decimal(value)
        if number is None:
            raise FieldValueError(field, f"expected a number, got {value!r}")
        return decimal_text(number)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise FieldValueError(field, f"expected true or false, got {value!r}")
        return value
    if kind == "date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise FieldValueError(field, f"expected a date YYYY-MM-DD, got {value!r}")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise FieldValueError(field, f"not a valid date: {value!r}") from None
    if kind == "datetime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise FieldValueError(field, f"expected a datetime YYYY-MM-DDTHH:MM:SS, got {value!r}")
        return parsed.isoformat(timespec="seconds")
    if kind == "time":
        if not isinstance(value, str) or not _TIME.match(value):
            raise FieldValueError(field, f"expected a time HH:MM:SS, got {value!r}")
        return value if value.count(":") == 2 else value + ":00"
    if kind == "timeinterval":
        if not isinstance(value, str) or not _INTERVAL.match(value):
            raise FieldValueError(field, f"expected an interval H:MM:SS, got {value!r}")
        return value
    if kind == "appointment":
        return _appointment(field, value)
    if kind == "choice":
        return _choice_id(field, value)
    if kind == "multi":
        items = value if isinstance(value, list) else [value]
        return sorted({_choice_id(field, item) for item in items})
    if kind == "reference":
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise FieldValueError(field, f"expected a record id, got {value!r}")
        return value
    raise FieldValueError(field, "this field cannot be written")


def _appointment(field: Field, value: Any) -> str:
    parts = value.split(" - ") if isinstance(value, str) else []
    if len(parts) != 2:
        raise FieldValueError(field, f"expected 'start - end', got {value!r}")
    start, end = (parse_datetime(p.strip()) for p in parts)
    if start is None or end is None:
        raise FieldValueError(field, f"expected two datetimes, got {value!r}")
    return f"{start.isoformat(timespec='seconds')} - {end.isoformat(timespec='seconds')}"


def _choice_id(field: Field, value: Any) -> int:
    option = None
    if isinstance(value, str):
        option = field.option_by_caption(value)
        if option is None and value.isdigit():
            option = field.option_by_id(int(value))
    elif isinstance(value, int) and not isinstance(value, bool):
        option = field.option_by_id(value)
    if option is None:
        captions = ", ".join(o.caption for o in field.options)
        raise FieldValueError(field, f"{value!r} is not one of: {captions}")
    return option.id


def to_json(field: Field, stored: Any, choice_ids: bool = False) -> Any:
    """The reply form of a stored value (numbers as Decimal, for exact JSON)."""
    kind = field.type
    if kind == "number":
        return Decimal(stored)
    if kind == "choice":
        if choice_ids:
            return stored
        option = field.option_by_id(stored)
        return option.caption if option else None
    if kind == "multi":
        if choice_ids:
            return list(stored)
        return [o.caption for o in (field.option_by_id(i) for i in stored) if o]
    return stored


def epoch_ms(stored_date: str) -> int:
    """A stored date (``YYYY-MM-DD``) as milliseconds since 1970 at UTC midnight."""
    day = date.fromisoformat(stored_date)
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def to_python(field: Field, stored: Any) -> Any:
    """The NX form of a stored value: Decimal, date, datetime, bool, str, int ids."""
    if stored is None:
        return None
    kind = field.type
    if kind == "number":
        return Decimal(stored)
    if kind == "date":
        return date.fromisoformat(stored)
    if kind == "datetime":
        return datetime.fromisoformat(stored)
    return stored


def lenient_filters(
    pairs: Iterable[tuple[Field | None, Any]],
) -> tuple[tuple[Field, Any], ...] | None:
    """Equality filters (field, stored value) that skip unknown and formula fields; None
    ("matches nothing") when a value is one its field cannot hold."""
    out: list[tuple[Field, Any]] = []
    for fld, value in pairs:
        if fld is None or fld.type == "formula":
            continue
        try:
            out.append((fld, to_storage(fld, value)))
        except FieldValueError:
            return None
    return tuple(out)
