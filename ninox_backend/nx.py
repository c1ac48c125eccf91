"""Build NX (Ninox's query language) from Python values, safely.

    >>> from ninox_backend import nx
    >>> str(nx.select("Grants").where(nx.and_(
    ...     nx.eq(nx.field("Lodge", "Number"), 123),
    ...     nx.ge("Grant Date", nx.date(2026, 5, 1)))))
    "select Grants where (Lodge.Number = 123 and 'Grant Date' >= date(2026, 5, 1))"

Every value becomes a literal (strings double-quoted and escaped, numbers
exact, ``None`` → ``null``); every name is bare only when it is a plain
identifier, otherwise single-quoted and escaped. Nothing is concatenated from
raw input, so a value can never change the structure of the expression. In a
comparison a ``str`` on the left is a field name; on the right it is a value.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

__all__ = [
    "Expr",
    "Select",
    "and_",
    "avg",
    "call",
    "count",
    "date",
    "eq",
    "field",
    "first",
    "ge",
    "gt",
    "last",
    "le",
    "literal",
    "lt",
    "max_",
    "min_",
    "name",
    "ne",
    "not_",
    "or_",
    "select",
    "string",
    "sum_",
]

KEYWORDS = frozenset(
    {
        "select", "where", "and", "or", "not", "true", "false", "null", "let", "var", "if",
        "then", "else", "end", "for", "in", "from", "to", "do", "this", "create", "delete",
        "function", "order", "by", "switch", "case", "while",
    }
)  # fmt: skip
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NAME_ESCAPES = {"'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class Expr:
    """A piece of NX text built by this module. ``str(expr)`` is the NX."""

    __slots__ = ("_text",)

    def __init__(self, text: str) -> None:
        self._text = text

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"nx.Expr({self._text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)


def _escape(text: str, escapes: dict[str, str]) -> str:
    return "".join(escapes.get(char, char) for char in text)


def string(value: str) -> Expr:
    """A string literal: ``"..."`` with ``"``, ``\\`` and line breaks escaped."""
    return Expr('"' + _escape(str(value), _STRING_ESCAPES) + '"')


def name(value: str) -> str:
    """A table or field name: bare if it is a plain identifier, else ``'single quoted'``."""
    value = str(value)
    if _IDENTIFIER.match(value) and value.lower() not in KEYWORDS:
        return value
    return "'" + _escape(value, _NAME_ESCAPES) + "'"


def literal(value: Any) -> Expr:
    """A Python value as an NX literal: str, int, Decimal, bool, None, date, list."""
    if isinstance(value, Expr):
        return value
    if value is None:
        return Expr("null")
    if isinstance(value, bool):
        return Expr("true" if value else "false")
    if isinstance(value, str):
        return string(value)
    if isinstance(value, int):
        return Expr(str(int(value)))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"NX has no literal for {value}")
        return Expr(format(value, "f"))
    if isinstance(value, float):
        raise TypeError("float values are not accepted in NX; use Decimal or int")
    if isinstance(value, dt.datetime):
        raise TypeError("datetime literals are not supported; compare dates with nx.date()")
    if isinstance(value, dt.date):
        return date(value)
    if isinstance(value, list | tuple):
        return Expr("[" + ", ".join(str(literal(v)) for v in value) + "]")
    raise TypeError(f"no NX literal for {type(value).__name__}")


def field(*path: str) -> Expr:
    """A field path: ``field("Lodge", "Number")`` → ``Lodge.Number``."""
    if not path:
        raise ValueError("a field path needs at least one name")
    return Expr(".".join(name(part) for part in path))


def date(year: int | dt.date, month: int | None = None, day: int | None = None) -> Expr:
    """``date(2026, 5, 1)``, from three ints or a ``datetime.date``."""
    if isinstance(year, dt.date):
        return Expr(f"date({year.year}, {year.month}, {year.day})")
    if month is None or day is None:
        raise TypeError("date() needs a date or year, month and day")
    dt.date(int(year), int(month), int(day))  # validates the date
    return Expr(f"date({int(year)}, {int(month)}, {int(day)})")


def _left(value: Any) -> Expr:
    return field(value) if isinstance(value, str) else literal(value)


def _compare(op: str, left: Any, right: Any) -> Expr:
    return Expr(f"{_left(left)} {op} {literal(right)}")


def eq(left: Any, right: Any) -> Expr:
    """``left = right`` (a ``str`` left is a field name, a ``str`` right is a value)."""
    return _compare("=", left, right)


def ne(left: Any, right: Any) -> Expr:
    return _compare("!=", left, right)


def lt(left: Any, right: Any) -> Expr:
    return _compare("<", left, right)


def le(left: Any, right: Any) -> Expr:
    return _compare("<=", left, right)


def gt(left: Any, right: Any) -> Expr:
    return _compare(">", left, right)


def ge(left: Any, right: Any) -> Expr:
    return _compare(">=", left, right)


def _join(op: str, conditions: tuple[Expr, ...]) -> Expr:
    if not conditions:
        raise ValueError(f"{op} needs at least one condition")
    for condition in conditions:
        if not isinstance(condition, Expr):
            raise TypeError("conditions must be built with nx functions")
    if len(conditions) == 1:
        return conditions[0]
    return Expr("(" + f" {op} ".join(str(c) for c in conditions) + ")")


def and_(*conditions: Expr) -> Expr:
    return _join("and", conditions)


def or_(*conditions: Expr) -> Expr:
    return _join("or", conditions)


def not_(condition: Expr) -> Expr:
    if not isinstance(condition, Expr):
        raise TypeError("conditions must be built with nx functions")
    return Expr(f"not ({condition})")


class Select(Expr):
    """``select Table [where …]``; ``.where`` adds conditions (joined with ``and``)."""

    __slots__ = ("_conditions", "table")

    def __init__(self, table: str, conditions: tuple[Expr, ...] = ()) -> None:
        self.table = table
        self._conditions = conditions
        text = f"select {name(table)}"
        if conditions:
            text += f" where {and_(*conditions)}"
        super().__init__(text)

    def where(self, *conditions: Expr) -> Select:
        for condition in conditions:
            if not isinstance(condition, Expr):
                raise TypeError("conditions must be built with nx functions")
        return Select(self.table, self._conditions + conditions)

    def pluck(self, *path: str) -> Expr:
        """The values of a field over the selection: ``(select T where …).Amount``."""
        return Expr(f"({self}).{field(*path)}")


def select(table: str) -> Select:
    """``select Table``: every record of the table."""
    return Select(table)


_FUNCTION = re.compile(r"[a-z][A-Za-z0-9]*\Z")


def call(function: str, *args: Any) -> Expr:
    """A call of a built-in NX function (``text``, ``number``, ``today`` …); args are literals."""
    if not _FUNCTION.match(function) or function in KEYWORDS:
        raise ValueError(f"not an NX function name: {function!r}")
    return Expr(f"{function}({', '.join(str(literal(a)) for a in args)})")


def _aggregate(function: str, expr: Expr, path: tuple[str, ...]) -> Expr:
    if isinstance(expr, Select) and path:
        expr = expr.pluck(*path)
    elif path:
        expr = Expr(f"({expr}).{field(*path)}")
    if not isinstance(expr, Expr):
        raise TypeError("aggregate over an nx expression (e.g. nx.select(...))")
    return Expr(f"{function}({expr})")


def sum_(expr: Expr, *path: str) -> Expr:
    """``sum((select Grants where …).Amount)``: ``sum_(select("Grants").where(…), "Amount")``."""
    return _aggregate("sum", expr, path)


def count(expr: Expr, *path: str) -> Expr:
    return _aggregate("count", expr, path)


def max_(expr: Expr, *path: str) -> Expr:
    return _aggregate("max", expr, path)


def min_(expr: Expr, *path: str) -> Expr:
    return _aggregate("min", expr, path)


def avg(expr: Expr, *path: str) -> Expr:
    return _aggregate("avg", expr, path)


def first(expr: Expr, *path: str) -> Expr:
    return _aggregate("first", expr, path)


def last(expr: Expr, *path: str) -> Expr:
    return _aggregate("last", expr, path)
