"""Narrowing a ``select … where`` before the full scan, through reference indexes.

A conjunct like ``Lodge.Number = 123``, ``Lodge = this`` or ``Lodge = 5`` can only
hold for records that point at certain target records; the reverse index of the
reference field gives those at once. The full condition is still evaluated on every
candidate, so narrowing never changes a result: it only skips records that cannot
match (a 50,000-grant scan becomes a few dozen).

One condition is answered by the id index alone, without evaluating it:
``Id = 3 or Id = 7 or …`` (ids as number literals, ``Id`` neither a variable nor a
field), which holds for exactly the records with those ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..schema import Field, Table
from ..store import Row
from . import functions
from .nodes import Binary, Literal, Name, Node, Path, This, Unary
from .records import Rec

if TYPE_CHECKING:
    from .evaluator import Env, Evaluator


def conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, Binary) and node.op == "and":
        yield from conjuncts(node.left)
        yield from conjuncts(node.right)
    else:
        yield node


def _constant(node: Node) -> tuple[bool, Any]:
    if isinstance(node, Literal):
        return True, node.value
    if isinstance(node, Unary) and node.op == "-" and isinstance(node.operand, Literal):
        value = node.operand.value
        return isinstance(value, Decimal), -value if isinstance(value, Decimal) else None
    return False, None


def disjuncts(node: Node) -> Iterator[Node]:
    """The terms of ``a or b or …``, left to right (a loop: long chains nest deeply)."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, Binary) and current.op == "or":
            pending.extend((current.right, current.left))
        else:
            yield current


def by_ids(ev: Evaluator, table: Table, where: Node, env: Env) -> list[Row] | None:
    """The rows ``where`` selects if it is only ``Id = <number>`` terms joined by ``or``
    (in id order), or None when it is anything else."""
    wanted: set[int] = set()
    for node in disjuncts(where):
        if not isinstance(node, Binary) or node.op != "=":
            return None
        for name, other in ((node.left, node.right), (node.right, node.left)):
            if _is_record_id(ev, table, name, env):
                is_constant, value = _constant(other)
                if is_constant and isinstance(value, Decimal):
                    if value == value.to_integral_value():
                        wanted.add(int(value))
                    break  # a fractional id matches no record
        else:
            return None
    by_id = ev.data.rows(table).by_id
    return [by_id[rid] for rid in sorted(wanted) if rid in by_id]


def _is_record_id(ev: Evaluator, table: Table, node: Node, env: Env) -> bool:
    """Whether ``node`` inside ``where`` is the record's own id (not a variable or field)."""
    return (
        isinstance(node, Name)
        and node.name in ("Id", "id")
        and env.find(node.name) is None
        and ev.field(table, node.name) is None
    )


def narrow(ev: Evaluator, table: Table, where: Node, env: Env) -> list[Row] | None:
    """Candidate rows for ``select table where …`` (in id order), or None to scan all."""
    for node in conjuncts(where):
        if not isinstance(node, Binary) or node.op != "=":
            continue
        for left, right in ((node.left, node.right), (node.right, node.left)):
            rows = _by_reference(ev, table, left, right, env)
            if rows is not None:
                return rows
    return None


def _reference(ev: Evaluator, table: Table, node: Node, env: Env) -> Field | None:
    """The reference field a bare name denotes inside ``where``, if it does."""
    if not isinstance(node, Name) or env.find(node.name) is not None:
        return None
    fld = ev.field(table, node.name)
    return fld if fld is not None and fld.type == "reference" else None


def _by_reference(
    ev: Evaluator, table: Table, left: Node, right: Node, env: Env
) -> list[Row] | None:
    rows = ev.data.rows(table)
    if isinstance(left, Path):
        ref = _reference(ev, table, left.obj, env)
        is_constant, value = _constant(right)
        if ref is None or not is_constant or value is None:
            return None
        target = ev.data.table(ref.ref_table or "")
        if target is None:
            return None
        matches: list[Row] = []
        for candidate in ev.data.rows(target).rows:
            got = ev.member(Rec(target, candidate), left.name, left)
            if isinstance(got, list):
                return None  # a list-valued path has other semantics; scan instead
            try:
                if functions.compare("=", got, value):
                    matches.append(candidate)
            except TypeError:
                return None
        return _union(rows.referencing(ref.id, m.id) for m in matches)
    ref = _reference(ev, table, left, env)
    if ref is None:
        return None
    if isinstance(right, This):
        value = env.this
    elif isinstance(right, Name) and env.find(right.name) is not None:
        scope = env.find(right.name)
        value = scope.vars[right.name] if scope is not None else None
    else:
        is_constant, value = _constant(right)
        if not is_constant:
            return None
    if isinstance(value, Rec) and value.table.id == ref.ref_table:
        return list(rows.referencing(ref.id, value.id))
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return list(rows.referencing(ref.id, int(value)))
    return None


def _union(groups: Iterator[list[Row]]) -> list[Row]:
    merged = [row for group in groups for row in group]
    merged.sort(key=lambda row: row.id)
    return merged
