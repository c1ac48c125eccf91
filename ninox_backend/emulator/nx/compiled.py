"""A ``select … where`` condition of plain comparisons, turned into one test per record.

Most conditions are conjunctions of comparisons between a field of the record, a
literal and a variable (``Lodge = driftLodge and 'Grant Date' >= date(2026, 5, 1)
and Status != "Cancelled"``). Walking the tree for every record of a table repeats the
same name lookups each time; here they are resolved once per selection (a variable's
value cannot change inside a condition without statements), and each record only reads
its fields and compares, with the evaluator's own :func:`~.functions.compare` and field
reading, left to right, stopping at the first false comparison: the same results and
errors as walking the tree. Any other condition returns None and is evaluated as usual.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..schema import Field, Table
from . import functions
from .nodes import Binary, Literal, Name, Node
from .records import Rec

if TYPE_CHECKING:
    from .evaluator import Env, Evaluator

_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})
#: an operand: a field read from each record, or a value fixed for the whole selection
_Operand = tuple[Field | None, Any]


def conjuncts(node: Node) -> list[Node]:
    """The terms of ``a and b and …``, left to right."""
    terms: list[Node] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, Binary) and current.op == "and":
            pending.extend((current.right, current.left))
        else:
            terms.append(current)
    return terms


def where_test(ev: Evaluator, table: Table, where: Node, env: Env) -> Callable[[Rec], bool] | None:
    """A test of one record of ``table`` equivalent to ``where``, or None if it is not plain."""
    terms: list[tuple[Binary, _Operand, _Operand]] = []
    for node in conjuncts(where):
        if not isinstance(node, Binary) or node.op not in _COMPARISONS:
            return None
        left, right = _operand(ev, table, node.left, env), _operand(ev, table, node.right, env)
        if left is None or right is None:
            return None
        terms.append((node, left, right))

    def test(rec: Rec) -> bool:
        for node, (left_field, left), (right_field, right) in terms:
            if left_field is not None:
                left = ev.field_value(rec, left_field, node.left)
            if right_field is not None:
                right = ev.field_value(rec, right_field, node.right)
            try:
                holds = functions.compare(node.op, left, right)
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ev.error(str(exc) or "division by zero", node) from None
            if not holds:
                return False
        return True

    return test


def _operand(ev: Evaluator, table: Table, node: Node, env: Env) -> _Operand | None:
    if isinstance(node, Literal):
        return None, node.value
    if not isinstance(node, Name):
        return None
    scope = env.find(node.name)
    if scope is not None:  # a variable wins over a field of the same name
        return None, scope.vars[node.name]
    fld = ev.field(table, node.name)
    return (fld, None) if fld is not None else None
