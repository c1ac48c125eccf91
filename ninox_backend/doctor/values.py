"""The shape of every mapped field's values in a sampled page, and whether the portal reads
each as its field type without guessing (a date as text or as epoch milliseconds, …)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..types import FieldType
from .probe import Probe, Sample
from .replies import ABSENT, as_number, clip, field_value

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)
TEXT_TYPES = {
    FieldType.TEXT,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.HTML,
    FieldType.CHOICE,
}
#: epoch milliseconds of 2000-01-01 and 2100-01-01: a numeric date between them is readable
_EPOCH_MS_2000 = 946_684_800_000
_EPOCH_MS_2100 = 4_102_444_800_000


def check_values(probe: Probe, sample: Sample) -> None:
    rows = sample.rows
    if not rows:
        probe.add(
            f"values {sample.table.name}",
            True,
            "the table is empty: no values to check",
            "run the doctor again once it has records",
        )
        return
    shapes: list[str] = []
    bad: list[tuple[str, str]] = []
    for mf in sample.mapped.fields.values():
        if mf.formula:
            continue
        live = next((f for f in sample.table.fields if f.name == mf.name), None)
        keys = [mf.name] + ([live.id] if live is not None else [])
        values = [field_value(row, keys) for row in rows]
        present = [v for v in values if v is not ABSENT and v is not None]
        if not present:
            shapes.append(f"{mf.name} absent in all {len(rows)}")
            continue
        dated = mf.type in (FieldType.DATE, FieldType.DATETIME)
        kinds = sorted(
            {"epoch-ms number" if dated and _epoch_ms(v) else _value_shape(v) for v in present}
        )
        unreadable = [v for v in present if not _readable(mf.type, v)]
        label = f"{mf.name} {'/'.join(kinds)}"
        if len(present) < len(rows):
            label += f" ({len(rows) - len(present)} absent)"
        shapes.append(label)
        if unreadable:
            bad.append(
                (
                    mf.name,
                    f"{mf.name} ({mf.type}) arrives as {_value_shape(unreadable[0])}"
                    f" {clip(unreadable[0])} in {len(unreadable)} of {len(present)} rows",
                )
            )
    probe.add(
        f"values {sample.table.name}",
        not bad,
        f"{len(rows)} row(s): " + ", ".join(shapes),
        "read as expected" if not bad else "see the lines below",
    )
    for name, detail in bad:
        probe.add(
            f"value {sample.table.name}.{name}",
            False,
            detail,
            "such records are quarantined (never counted as $0) and their lodges'"
            " applications go to review",
        )


def _value_shape(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal | float):
        return "number"
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return '"YYYY-MM-DD"'
        if _ISO_DATETIME.match(value):
            return '"YYYY-MM-DDThh:mm"'
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _epoch_ms(value: Any) -> bool:
    number = as_number(value)
    return number is not None and _EPOCH_MS_2000 <= number < _EPOCH_MS_2100


def _readable(kind: str, value: Any) -> bool:
    """Whether the portal reads ``value`` as a field of ``kind`` without guessing."""
    if kind in TEXT_TYPES:
        return isinstance(value, str)
    if kind == FieldType.NUMBER:
        return as_number(value) is not None
    if kind == FieldType.BOOLEAN:
        return isinstance(value, bool)
    if kind == FieldType.REFERENCE:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == FieldType.DATE:
        return (isinstance(value, str) and bool(_ISO_DATE.match(value))) or _epoch_ms(value)
    if kind == FieldType.DATETIME:
        return (isinstance(value, str) and bool(_ISO_DATETIME.match(value))) or _epoch_ms(value)
    if kind == FieldType.MULTI:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True
