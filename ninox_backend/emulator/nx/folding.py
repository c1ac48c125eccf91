"""Constant folding: a built-in call on literals (``date(2026, 5, 1)``) becomes its value.

Done once per parsed program, so a condition run on every record of a table does not
call ``date()`` again for each. Only functions whose value depends on their arguments
alone are folded (not ``today()`` or ``now()``); a call that would fail stays a call, so
its error is raised where and when it runs, as before.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, cast

from . import functions
from .nodes import Call, Literal, Node

_PURE = frozenset(
    {"date", "number", "text", "string", "year", "month", "day", "abs", "round", "length"}
)


def fold(node: Node) -> Node:
    """``node`` with every foldable call below it replaced by a :class:`Literal`."""
    changes: dict[str, Any] = {}
    for spec in fields(node):
        value = getattr(node, spec.name)
        if isinstance(value, Node):
            folded = fold(value)
            if folded is not value:
                changes[spec.name] = folded
        elif isinstance(value, tuple) and any(isinstance(item, Node) for item in value):
            items = tuple(fold(item) if isinstance(item, Node) else item for item in value)
            if any(new is not old for new, old in zip(items, value, strict=True)):
                changes[spec.name] = items
    if changes:
        node = replace(node, **changes)
    if (
        isinstance(node, Call)
        and node.name in _PURE
        and all(isinstance(arg, Literal) for arg in node.args)
    ):
        args = [cast(Literal, arg).value for arg in node.args]
        try:
            return Literal(node.pos, functions.call(node.name, args, cast(Any, None)))
        except (TypeError, ValueError, ArithmeticError):
            return node
    return node
