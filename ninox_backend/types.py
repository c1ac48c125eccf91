"""Typed fields and records, and the conversion of values per field type, both ways.

Reading (:func:`from_ninox`): number → ``Decimal``, date → ``date`` (from
``"2026-05-01"``, or epoch milliseconds between 2000 and 2100), datetime →
aware UTC ``datetime``, time → ``time``, timeinterval → ``timedelta``,
appointment → :class:`Appointment`, location → :class:`Location`, reference →
``int``, multiple choice → ``list[str]``; unknown types pass through untouched.
Writing (:func:`to_ninox`) is the inverse. JSON is read with ``Decimal`` for
every non-integer number and written without ever going through ``float``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Appointment",
    "Field",
    "FieldType",
    "FileInfo",
    "Location",
    "Record",
    "dumps",
    "format_datetime",
    "format_timeinterval",
    "from_ninox",
    "loads",
    "normalize_type",
    "parse_datetime",
    "parse_timeinterval",
    "same_value",
    "to_ninox",
]

UTC = dt.UTC


class FieldType:
    """Canonical field type names (Ninox's own spellings vary between endpoints)."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    TIMEINTERVAL = "timeinterval"
    APPOINTMENT = "appointment"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MULTI = "multi"
    LOCATION = "location"
    REFERENCE = "reference"
    REVERSE = "reverse"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    HTML = "html"
    FILE = "file"
    IMAGE = "image"
    FORMULA = "formula"


_TYPE_ALIASES = {
    "string": FieldType.TEXT,
    "text": FieldType.TEXT,
    "number": FieldType.NUMBER,
    "date": FieldType.DATE,
    "datetime": FieldType.DATETIME,
    "timestamp": FieldType.DATETIME,
    "time": FieldType.TIME,
    "timeinterval": FieldType.TIMEINTERVAL,
    "interval": FieldType.TIMEINTERVAL,
    "appointment": FieldType.APPOINTMENT,
    "boolean": FieldType.BOOLEAN,
    "bool": FieldType.BOOLEAN,
    "yesno": FieldType.BOOLEAN,
    "yes/no": FieldType.BOOLEAN,
    "duration": FieldType.TIMEINTERVAL,
    "choice": FieldType.CHOICE,
    "multi": FieldType.MULTI,
    "multichoice": FieldType.MULTI,
    "multiplechoice": FieldType.MULTI,
    "multiple choice": FieldType.MULTI,
    "multi_choice": FieldType.MULTI,
    "location": FieldType.LOCATION,
    "ref": FieldType.REFERENCE,
    "reference": FieldType.REFERENCE,
    # Recorded Ninox schemas use ``link`` for URL fields; references are ``ref``.
    "link": FieldType.URL,
    "rev": FieldType.REVERSE,
    "reverse": FieldType.REVERSE,
    "email": FieldType.EMAIL,
    "phone": FieldType.PHONE,
    "url": FieldType.URL,
    "html": FieldType.HTML,
    "richtext": FieldType.HTML,
    "file": FieldType.FILE,
    "image": FieldType.IMAGE,
    "formula": FieldType.FORMULA,
    "fn": FieldType.FORMULA,
}


def normalize_type(name: str | None) -> str:
    """Ninox's spelling of a type → the canonical :class:`FieldType` name (unknown: as given)."""
    if not name:
        return ""
    key = str(name).strip().lower()
    return _TYPE_ALIASES.get(key, _TYPE_ALIASES.get(key.replace("-", "").replace(" ", ""), key))


@dataclass(frozen=True)
class Field:
    """One field of a table, as the schema describes it."""

    id: str
    name: str
    type: str
    required: bool = False
    #: choice id → caption, for choice and multiple-choice fields
    choices: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: the linked table's id, for reference fields
    ref_table: str | None = None
    #: the NX formula, for formula fields (their values come only through ``query``)
    formula: str | None = None
    raw_type: str = ""

    @property
    def read_only(self) -> bool:
        """Formula and reverse-reference fields: Ninox computes them, a write cannot set them."""
        return self.type in (FieldType.FORMULA, FieldType.REVERSE)


@dataclass(frozen=True)
class Appointment:
    """A Ninox appointment: a span of time with aware UTC ends."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Location:
    """A Ninox location: ``"Address <lat,lon>"``; coordinates are exact decimals."""

    address: str
    lat: Decimal | None = None
    lon: Decimal | None = None


@dataclass(frozen=True)
class Record:
    """A record as Ninox returns it, with ``fields`` converted per field type."""

    id: int
    sequence: int | None = None
    created_at: dt.datetime | None = None
    created_by: str | None = None
    modified_at: dt.datetime | None = None
    modified_by: str | None = None
    fields: dict[str, Any] = field(default_factory=dict, hash=False)
    #: the table's id, where the reply said it (change feeds)
    table: str | None = None

    def __getitem__(self, name: str) -> Any:
        return self.fields[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        fields: Mapping[str, Field] | None = None,
        table: str | None = None,
    ) -> Record:
        """Build a record from a reply, converting values with ``fields`` (name or id → Field)."""
        raw_fields = data.get("fields") or {}
        converted = {}
        for key, value in raw_fields.items():
            spec = fields.get(key) if fields else None
            converted[key] = from_ninox(value, spec.type if spec else None, spec)
        table_id = data.get("table", data.get("tableId", table))
        return cls(
            id=int(data["id"]),
            sequence=_int_or_none(data.get("sequence", data.get("seq"))),
            created_at=_datetime_or_none(data.get("createdAt")),
            created_by=data.get("createdBy"),
            modified_at=_datetime_or_none(data.get("modifiedAt")),
            modified_by=data.get("modifiedBy"),
            fields=converted,
            table=str(table_id) if table_id is not None else None,
        )


@dataclass(frozen=True)
class FileInfo:
    """A file attached to a record (or held in a file/image field)."""

    name: str
    size: int | None = None
    content_type: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> FileInfo:
        if not isinstance(data, Mapping):
            return cls(str(data))
        size = data.get("size", data.get("length"))
        return cls(
            name=str(data.get("name", data.get("fileName", ""))),
            size=int(size) if size is not None else None,
            content_type=data.get("contentType", data.get("type")),
            raw=dict(data),
        )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _datetime_or_none(value: Any) -> dt.datetime | None:
    return None if value in (None, "") else parse_datetime(value)


# ---- reading -------------------------------------------------------------------------------


def parse_datetime(value: Any) -> dt.datetime:
    """``"2026-05-01T12:30:00"`` (UTC, no zone), ISO with a zone, or epoch ms → aware UTC."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(0, UTC) + dt.timedelta(milliseconds=int(value))
    else:
        moment = dt.datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


#: a numeric date or datetime is read as epoch milliseconds only inside this span
EPOCH_MS_FROM = 946_684_800_000  # 2000-01-01T00:00:00Z
EPOCH_MS_UNTIL = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def _epoch_ms(value: Any) -> dt.datetime:
    """A number as epoch milliseconds, only between 2000 and 2100 (else ``ValueError``).

    Seed 002 names the date's JSON type "number" beside a string example; a number
    outside that span (seconds, days, a stray amount) is no date we can vouch for,
    so the reader passes it through untouched for the caller to quarantine.
    """
    if not EPOCH_MS_FROM <= value < EPOCH_MS_UNTIL:
        raise ValueError(f"{value!r} is not epoch milliseconds between 2000 and 2100")
    return parse_datetime(value)


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _epoch_ms(value).date()
    return dt.date.fromisoformat(str(value).strip()[:10])


def _parse_datetime_field(value: Any) -> dt.datetime:
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _epoch_ms(value)
    return parse_datetime(value)


_INTERVAL = re.compile(r"^(-)?(\d+):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,6}))?)?$")


def parse_timeinterval(value: Any) -> dt.timedelta:
    """``"123:25:16.123"`` (hours:minutes:seconds.fraction) or milliseconds → ``timedelta``."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return dt.timedelta(milliseconds=int(value))
    match = _INTERVAL.match(str(value).strip())
    if not match:
        raise ValueError(f"not a Ninox time interval: {value!r}")
    sign, hours, minutes, seconds, fraction = match.groups()
    span = dt.timedelta(
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(6, "0")),
    )
    return -span if sign else span


def parse_location(value: Any) -> Location:
    if isinstance(value, Location):
        return value
    if isinstance(value, Mapping):
        return Location(
            str(value.get("address", "")),
            _decimal_or_none(value.get("lat", value.get("latitude"))),
            _decimal_or_none(value.get("lon", value.get("lng", value.get("longitude")))),
        )
    text = str(value)
    match = re.match(r"^(.*?)\s*<\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*>\s*$", text, re.S)
    if not match:
        return Location(text.strip())
    return Location(match.group(1), Decimal(match.group(2)), Decimal(match.group(3)))


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_appointment(value: Any) -> Appointment:
    if isinstance(value, Appointment):
        return value
    if isinstance(value, Mapping):
        start = value.get("start", value.get("begin"))
        return Appointment(parse_datetime(start), parse_datetime(value.get("end")))
    if isinstance(value, list | tuple) and len(value) == 2:
        return Appointment(parse_datetime(value[0]), parse_datetime(value[1]))
    start, _, end = str(value).partition(" - ")
    if not end:
        raise ValueError(f"not a Ninox appointment: {value!r}")
    return Appointment(parse_datetime(start), parse_datetime(end))


def parse_reference(value: Any) -> int:
    """A linked record's id: ``7``, ``"7"``, ``"B7"`` (NX style) or ``{"id": 7}``."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = re.match(r"^[A-Z]*(\d+)$", str(value).strip())
    if not match:
        raise ValueError(f"not a record id: {value!r}")
    return int(match.group(1))


def parse_number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def _choice(value: Any, spec: Field | None) -> Any:
    # With choiceStyle=ids Ninox sends the choice's id; map it back to its caption.
    if spec is not None and spec.choices and not isinstance(value, bool):
        caption = spec.choices.get(str(value))
        if caption is not None and str(value) not in spec.choices.values():
            return caption
    return value


_READERS = {
    FieldType.NUMBER: lambda v, s: parse_number(v),
    FieldType.DATE: lambda v, s: parse_date(v),
    FieldType.DATETIME: lambda v, s: _parse_datetime_field(v),
    FieldType.TIME: lambda v, s: dt.time.fromisoformat(str(v)) if isinstance(v, str) else v,
    FieldType.TIMEINTERVAL: lambda v, s: parse_timeinterval(v),
    FieldType.APPOINTMENT: lambda v, s: parse_appointment(v),
    FieldType.BOOLEAN: lambda v, s: v if isinstance(v, bool) else str(v).lower() == "true",
    FieldType.CHOICE: _choice,
    FieldType.MULTI: lambda v, s: [_choice(x, s) for x in (v if isinstance(v, list) else [v])],
    FieldType.LOCATION: lambda v, s: parse_location(v),
    FieldType.REFERENCE: lambda v, s: parse_reference(v),
    FieldType.REVERSE: lambda v, s: [
        parse_reference(x) for x in (v if isinstance(v, list) else [v])
    ],
}


def from_ninox(value: Any, type_: str | None, spec: Field | None = None) -> Any:
    """Convert a JSON value of a field of type ``type_`` to its Python value.

    ``None`` stays ``None``; unknown types and values that do not parse pass
    through untouched (a reader must never crash on a surprise from the server;
    whoever depends on a value checks its type, as the grants mirror does for money).
    """
    if value is None:
        return None
    reader = _READERS.get(normalize_type(type_))
    if reader is None:
        return value
    try:
        return reader(value, spec)
    except (ValueError, TypeError, ArithmeticError):
        return value


def same_value(asked: Any, got: Any) -> bool:
    """Whether a record's (converted) value is the value asked for: numbers numerically,
    strings exactly, dates as dates, datetimes as instants, a record by its id.

    Strict on purpose: a lookup whose answer does not carry the asked values is not trusted.
    """
    if isinstance(asked, Record):
        asked = asked.id
    if asked is None or got is None:
        return asked is None and got is None
    if isinstance(asked, bool) or isinstance(got, bool):
        return isinstance(asked, bool) and isinstance(got, bool) and asked == got
    if isinstance(asked, int | Decimal):
        return isinstance(got, int | Decimal) and Decimal(asked) == Decimal(got)
    if isinstance(asked, str):
        return isinstance(got, str) and asked == got
    if isinstance(asked, dt.datetime):
        return isinstance(got, dt.datetime) and parse_datetime(asked) == parse_datetime(got)
    if isinstance(asked, dt.date):
        return isinstance(got, dt.date) and not isinstance(got, dt.datetime) and asked == got
    if isinstance(asked, list | tuple):
        return (
            isinstance(got, list | tuple)
            and len(asked) == len(got)
            and all(same_value(a, g) for a, g in zip(asked, got, strict=True))
        )
    return bool(asked == got)


# ---- writing -------------------------------------------------------------------------------


def format_datetime(value: dt.datetime) -> str:
    """An aware (or UTC-naive) datetime → ``"YYYY-MM-DDTHH:MM:SS"`` in UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text


def format_timeinterval(value: dt.timedelta) -> str:
    """``timedelta`` → ``"H:MM:SS"`` with ``.fff`` milliseconds when there are any."""
    sign = "-" if value < dt.timedelta(0) else ""
    value = abs(value)
    total_seconds = value.days * 86400 + value.seconds
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours}:{minutes:02d}:{seconds:02d}"
    if value.microseconds:
        micros = value.microseconds
        text += f".{micros // 1000:03d}" if micros % 1000 == 0 else f".{micros:06d}"
    return text


def format_location(value: Location) -> str:
    if value.lat is None or value.lon is None:
        return value.address
    return f"{value.address} <{_plain(value.lat)},{_plain(value.lon)}>"


def _plain(number: Decimal) -> str:
    return format(number, "f")


def to_ninox(value: Any, type_: str | None = None) -> Any:
    """Convert a Python value to the JSON value Ninox expects for a field of ``type_``.

    Without a type, the value's own Python type decides. ``Decimal`` stays a
    ``Decimal`` (the JSON writer emits it as an exact number); ``float`` is
    refused, because money must never pass through one.
    """
    kind = normalize_type(type_)
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        raise TypeError("float values are not accepted; use Decimal (money must stay exact)")
    if isinstance(value, Record):
        return value.id
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"Ninox cannot store {value}")
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        if kind == FieldType.DATE:
            return (value.astimezone(UTC) if value.tzinfo else value).date().isoformat()
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        spec = "milliseconds" if value.microsecond else "seconds"
        return value.replace(tzinfo=None).isoformat(timespec=spec)
    if isinstance(value, dt.timedelta):
        return format_timeinterval(value)
    if isinstance(value, Appointment):
        return f"{format_datetime(value.start)} - {format_datetime(value.end)}"
    if isinstance(value, Location):
        return format_location(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [to_ninox(item) for item in value]
    return value


def fields_to_ninox(
    values: Mapping[str, Any], fields: Mapping[str, Field] | None = None
) -> dict[str, Any]:
    """Convert a ``{field name: Python value}`` dict for a write."""
    out = {}
    for key, value in values.items():
        spec = fields.get(key) if fields else None
        out[key] = to_ninox(value, spec.type if spec else None)
    return out


# ---- JSON ----------------------------------------------------------------------------------


def loads(text: str | bytes) -> Any:
    """Parse JSON with every non-integer number as ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Serialise to JSON, writing ``Decimal`` as an exact number (never via ``float``)."""
    parts: list[str] = []
    _dump(value, parts)
    return "".join(parts)


_encode_string = json.encoder.encode_basestring_ascii


def _dump(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"JSON cannot carry {value}")
        out.append(_plain(value))
    elif isinstance(value, float):
        raise TypeError("float values are not accepted; use Decimal")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_encode_string(str(key)))
            out.append(":")
            _dump(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _dump(item, out)
        out.append("]")
    else:
        converted = to_ninox(value)
        if converted is value:
            raise TypeError(f"cannot send {type(value).__name__} to Ninox")
        _dump(converted, out)
