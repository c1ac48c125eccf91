"""Reading JSON sent to us: anything that is not plain, shallow JSON is a ``JsonBodyError``.

Every reader of a JSON request body goes through ``json_loads`` (or ``read_json_body``),
so malformed text, bytes that are not UTF-8, ``NaN``/``Infinity`` and deep nesting all
end as one exception whose message a 400 can show. Python's parser recurses: a body
nested thousands deep would otherwise escape as a ``RecursionError`` (a 500), and a
merely deep one could do so later, wherever the value is encoded again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

MAX_DEPTH = 32  # arrays and objects inside each other; our largest document needs 4


class JsonBodyError(ValueError):
    """The body is not JSON we accept; ``message`` says why, for a 400 reply."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (0 for a scalar); no recursion."""
    return _walk(value)[0]


def _walk(value: Any) -> tuple[int, bool]:
    """(depth, every string is valid Unicode) of ``value``, without recursion.

    JSON's ``\\ud800`` escapes decode to lone surrogates, which no database or email
    can store: found by the hostile-input sweep as a 500 from SQLite.
    """
    deepest, valid = 0, True
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            valid = valid and _is_unicode(item)
            continue
        if isinstance(item, dict):
            valid = valid and all(_is_unicode(key) for key in item)
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest, valid


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_loads(
    raw: bytes | str,
    *,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    allow_constants: bool = False,
) -> Any:
    """``raw`` parsed; raises ``JsonBodyError`` for anything we would not accept.

    ``NaN`` and ``Infinity`` are not JSON and are refused unless ``allow_constants``.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise JsonBodyError("The body is not UTF-8 text.") from None
    too_deep = f"The body nests arrays and objects more than {max_depth} levels deep."
    try:
        value = json.loads(
            text,
            parse_float=parse_float,
            parse_constant=None if allow_constants else _refuse_constant,
        )
    except RecursionError:
        raise JsonBodyError(too_deep) from None
    except ValueError as exc:  # json.JSONDecodeError is one
        raise JsonBodyError(f"The body is not valid JSON: {exc}.") from None
    depth, valid = _walk(value)
    if depth > max_depth:
        raise JsonBodyError(too_deep)
    if not valid:
        raise JsonBodyError("The body has text that is not valid Unicode (a lone surrogate).")
    return value


def read_json_body(
    request: HttpRequest,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
) -> Any:
    """The request's body as JSON, at most ``max_bytes`` long; raises ``JsonBodyError``."""
    if len(request.body) > max_bytes:
        raise JsonBodyError(f"The body is larger than {max_bytes} bytes.")
    return json_loads(request.body, max_depth=max_depth, parse_float=parse_float)


__all__ = ["MAX_DEPTH", "JsonBodyError", "json_depth", "json_loads", "read_json_body"]
