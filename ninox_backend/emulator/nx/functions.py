"""NX operators and built-in functions on plain values (no syntax tree here).

Errors are raised as ``TypeError`` / ``ValueError``; the evaluator adds the position.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from ..values import decimal_text, parse_decimal
from .records import Choice, Rec

if TYPE_CHECKING:
    from .evaluator import DataSource


def kind(value: Any) -> str:
    """The NX type name of a value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "a datetime"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, Rec):
        return "a record"
    if isinstance(value, Choice):
        return "a choice"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def truthy(value: Any) -> bool:
    if value is None or value is False:
        return False
    if isinstance(value, Decimal | str | list):
        return bool(value)
    return True


def _plain(value: Any) -> Any:
    """Choices as captions, records stay records; "" counts as empty."""
    if isinstance(value, Choice):
        return value.caption
    if isinstance(value, str) and not value:
        return None
    return value


def compare(op: str, left: Any, right: Any) -> bool:
    """``= != < <= > >=`` with NX's coercions (choice ↔ caption/id, record ↔ id)."""
    if isinstance(left, Choice) and isinstance(right, Decimal):
        left = Decimal(left.id)
    if isinstance(right, Choice) and isinstance(left, Decimal):
        right = Decimal(right.id)
    if isinstance(left, Rec) and isinstance(right, Decimal):
        left = Decimal(left.id)
    if isinstance(right, Rec) and isinstance(left, Decimal):
        right = Decimal(right.id)
    left, right = _plain(left), _plain(right)
    if isinstance(left, datetime) != isinstance(right, datetime):
        # A date against a datetime compares the day.
        if isinstance(left, datetime) and isinstance(right, date):
            left = left.date()
        elif isinstance(right, datetime) and isinstance(left, date):
            right = right.date()
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    if isinstance(left, Rec) or isinstance(right, Rec) or isinstance(left, list):
        raise TypeError(f"cannot order {kind(left)} and {kind(right)}")
    if type(left) is not type(right):
        raise TypeError(f"cannot compare {kind(left)} with {kind(right)}")
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """``+ - * /``: numbers exact; ``+`` with text concatenates; dates move by days."""
    if op == "+" and (isinstance(left, str) or isinstance(right, str)):
        return text(left) + text(right)
    if isinstance(left, date) and not isinstance(left, datetime):
        if isinstance(right, Decimal) and op in "+-":
            days = timedelta(days=int(right))
            return left + days if op == "+" else left - days
        if isinstance(right, date) and op == "-":
            return Decimal((left - right).days)
    if left is None and right is None:
        return None
    left = Decimal(0) if left is None else left
    right = Decimal(0) if right is None else right
    if not isinstance(left, Decimal) or not isinstance(right, Decimal):
        raise TypeError(f"cannot apply '{op}' to {kind(left)} and {kind(right)}")
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise ValueError("division by zero")
    return left / right


def sort_key(value: Any) -> tuple[int, Any]:
    value = _plain(value)
    if value is None:
        return (0, 0)
    if isinstance(value, Decimal):
        return (1, value)
    if isinstance(value, datetime):
        return (2, value)
    if isinstance(value, date):
        return (2, datetime(value.year, value.month, value.day))  # noqa: DTZ001 (naive like the data)
    return (3, text(value))


def text(value: Any) -> str:
    """``text(x)``: numbers canonical, dates ISO, records as ``A6``, lists joined."""
    from .evaluator import serialize

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    result = serialize(value)
    return result if isinstance(result, str) else str(result)


def number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Choice):
        return Decimal(value.id)
    if isinstance(value, Rec):
        return Decimal(value.id)
    if isinstance(value, str):
        return parse_decimal(value)
    raise TypeError(f"number() cannot convert {kind(value)}")


def to_written(value: Any) -> Any:
    """An NX value in the JSON-like form that :func:`values.to_storage` accepts."""
    if isinstance(value, Rec):
        return value.id
    if isinstance(value, Choice):
        return value.id
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_written(item) for item in value]
    return value


def _items(args: list[Any]) -> list[Any]:
    """The non-null items of an aggregate's argument(s), lists flattened."""
    out: list[Any] = []
    for arg in args:
        for item in arg if isinstance(arg, list) else [arg]:
            if item is not None:
                out.append(item)
    return out


def _numbers(args: list[Any], name: str) -> list[Decimal]:
    items: list[Decimal] = []
    for item in _items(args):
        value = number(item) if isinstance(item, bool) else item
        if not isinstance(value, Decimal):
            raise TypeError(f"{name}() needs numbers, got {kind(item)}")
        items.append(value)
    return items


def _sum(args: list[Any], data: DataSource) -> Any:
    items = _numbers(args, "sum")
    return sum(items, Decimal(0)) if items else None


def _avg(args: list[Any], data: DataSource) -> Any:
    items = _numbers(args, "avg")
    return sum(items, Decimal(0)) / len(items) if items else None


def _extreme(pick: Callable[..., Any], name: str) -> Callable[[list[Any], DataSource], Any]:
    def run(args: list[Any], data: DataSource) -> Any:
        items = [_plain(i) for i in _items(args)]
        items = [i for i in items if i is not None]
        return pick(items, key=sort_key) if items else None

    run.__name__ = name
    return run


def _unique(args: list[Any], data: DataSource) -> Any:
    seen: list[Any] = []
    for item in _items(args):
        if item not in seen:
            seen.append(item)
    return seen


def _join(args: list[Any], data: DataSource) -> Any:
    if len(args) != 2:
        raise TypeError("join(list, separator) takes two arguments")
    return text(args[1]).join(text(i) for i in _items([args[0]]))


def _date(args: list[Any], data: DataSource) -> Any:
    if len(args) == 1:
        value = args[0]
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            return date.fromisoformat(value)
        raise TypeError(f"date() cannot convert {kind(value)}")
    if len(args) != 3 or not all(isinstance(a, Decimal) for a in args):
        raise TypeError("date(year, month, day) takes three numbers")
    return date(int(args[0]), int(args[1]), int(args[2]))


def _date_part(part: str) -> Callable[[list[Any], DataSource], Any]:
    def run(args: list[Any], data: DataSource) -> Any:
        (value,) = _arity(args, 1, part)
        if value is None:
            return None
        if not isinstance(value, date):
            raise TypeError(f"{part}() needs a date, got {kind(value)}")
        return Decimal(getattr(value, part))

    return run


def _round(args: list[Any], data: DataSource) -> Any:
    value = number(args[0]) if args else None
    places = int(args[1]) if len(args) > 1 and args[1] is not None else 0
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _arity(args: list[Any], count: int, name: str) -> list[Any]:
    if len(args) != count:
        raise TypeError(f"{name}() takes {count} argument{'s' if count != 1 else ''}")
    return args


_FUNCTIONS: dict[str, Callable[[list[Any], DataSource], Any]] = {
    "sum": _sum,
    "count": lambda a, d: Decimal(len(_items(a))),
    "cnt": lambda a, d: Decimal(len(_items(a))),
    "avg": _avg,
    "max": _extreme(max, "max"),
    "min": _extreme(min, "min"),
    "first": lambda a, d: (_items(a) or [None])[0],
    "last": lambda a, d: (_items(a) or [None])[-1],
    "unique": _unique,
    "join": _join,
    "concat": lambda a, d: ", ".join(text(i) for i in _items(a)),
    "today": lambda a, d: d.today() if not _arity(a, 0, "today") else None,
    "now": lambda a, d: d.now() if not _arity(a, 0, "now") else None,
    "date": _date,
    "number": lambda a, d: number(_arity(a, 1, "number")[0]),
    "text": lambda a, d: text(_arity(a, 1, "text")[0]),
    "string": lambda a, d: text(_arity(a, 1, "string")[0]),
    "year": _date_part("year"),
    "month": _date_part("month"),
    "day": _date_part("day"),
    "abs": lambda a, d: abs(v) if (v := number(_arity(a, 1, "abs")[0])) is not None else None,
    "round": _round,
    "length": lambda a, d: Decimal(len(text(_arity(a, 1, "length")[0]))),
    "isnull": lambda a, d: _plain(_arity(a, 1, "isnull")[0]) in (None, []),
}


def call(name: str, args: list[Any], data: DataSource) -> Any:
    """Run built-in ``name``; ``TypeError`` names an unknown function or bad arguments."""
    function = _FUNCTIONS.get(name)
    if function is None:
        raise TypeError(f"unknown or unsupported function {name}()")
    return function(args, data)
