"""JSON with exact decimals: ``Decimal("1250.10")`` is written as ``1250.1``.

The stdlib encoder cannot write a Decimal as a number, so replies are encoded here;
request bodies are parsed with ``parse_float=Decimal`` so no value passes through float.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from .errors import BadRequest
from .values import decimal_text

_encode_str = json.encoder.encode_basestring_ascii


def dumps(value: Any) -> str:
    """Encode ``value`` as compact JSON; Decimals exactly, dates as ISO text."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


def _write(value: Any, out: Any) -> None:
    if value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, str):
        out(_encode_str(value))
    elif isinstance(value, int):
        out(str(value))
    elif isinstance(value, Decimal):
        out(decimal_text(value))
    elif isinstance(value, float):
        out(json.dumps(value))
    elif isinstance(value, dict):
        out("{")
        first = True
        for key, item in value.items():
            if not first:
                out(",")
            first = False
            out(_encode_str(str(key)))
            out(":")
            _write(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _write(item, out)
        out("]")
    elif isinstance(value, datetime):
        out(_encode_str(value.isoformat(timespec="seconds")))
    elif isinstance(value, date | time):
        out(_encode_str(value.isoformat()))
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON keeping non-integer numbers as Decimal."""
    return json.loads(text, parse_float=Decimal)


def loads_param(raw: Any, message: str) -> Any:
    """A parameter that holds JSON: text is parsed (``""`` is ``{}``), anything else is
    returned as given; text that is not JSON is a 400 with ``message``."""
    if not isinstance(raw, str):
        return raw
    try:
        return loads(raw) if raw else {}
    except ValueError:
        raise BadRequest(message) from None
