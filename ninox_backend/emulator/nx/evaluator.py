"""The NX evaluator: walks the tree of :mod:`.nodes` over a :class:`DataSource`.

Values are ``None``, ``bool``, ``Decimal`` (every number), ``str``, ``date``,
``datetime``, :class:`Rec` (a record), :class:`Choice` and lists of these.
Writes (``create``, ``delete``, field assignment) need a writable data source.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Protocol

from ..schema import Field, Table
from ..store import Row, TableRows
from ..values import FieldValueError, to_python, to_storage
from . import compiled, folding, functions, planner
from .errors import NxError
from .nodes import (
    Assign,
    Binary,
    Block,
    Call,
    Create,
    Delete,
    Filter,
    For,
    If,
    Let,
    Literal,
    Name,
    Node,
    OrderBy,
    Path,
    Select,
    This,
    Unary,
    With,
)
from .parser import parse
from .records import Choice, Rec


class DataSource(Protocol):
    """What the evaluator needs from a database."""

    writable: bool

    def tables(self) -> list[Table]: ...
    def table(self, ref: str) -> Table | None: ...
    def rows(self, table: Table) -> TableRows: ...
    def create(self, table: Table) -> Row: ...
    def update(self, table: Table, rid: int, values: dict[str, Any]) -> Row: ...
    def delete(self, table: Table, rid: int) -> None: ...
    def today(self) -> date: ...
    def now(self) -> datetime: ...


class Env:
    """Variables of one scope, plus ``this`` and the record whose fields are bare names."""

    __slots__ = ("ctx", "parent", "this", "vars")

    def __init__(self, parent: Env | None, this: Rec | None, ctx: Rec | None) -> None:
        self.vars: dict[str, Any] = {}
        self.parent = parent
        self.this = this
        self.ctx = ctx

    def find(self, name: str) -> Env | None:
        env: Env | None = self
        while env is not None:
            if name in env.vars:
                return env
            env = env.parent
        return None


_MISSING = object()


@lru_cache(maxsize=512)
def parse_cached(source: str) -> Node:
    return folding.fold(parse(source))


class Evaluator:
    """Runs NX programs against one data source."""

    def __init__(self, data: DataSource, source: str = "") -> None:
        self.data = data
        self.source = source
        self._fields: dict[tuple[int, str], Field | None] = {}
        self._depth = 0
        self._dispatch: dict[type, Callable[[Any, Env], Any]] = {
            Literal: lambda n, e: n.value,
            Name: self._name,
            This: lambda n, e: e.this,
            Path: self._path,
            Call: self._call,
            Unary: self._unary,
            Binary: self._binary,
            Select: self._select,
            Filter: self._filter,
            OrderBy: self._order_by,
            Block: self._block,
            Let: self._let,
            Assign: self._assign,
            If: self._if,
            For: self._for,
            Create: self._create,
            Delete: self._delete,
            With: self._with,
        }

    def run(self, source: str, this: Rec | None = None) -> Any:
        """Parse and evaluate ``source``; ``this`` binds a record for formulas."""
        self.source = source
        return self.eval(parse_cached(source), Env(None, this, this))

    def eval(self, node: Node, env: Env) -> Any:
        return self._dispatch[type(node)](node, env)

    def error(self, message: str, node: Node) -> NxError:
        return NxError(message, self.source, node.pos)

    # -- names and fields ----------------------------------------------------
    def field(self, table: Table, name: str) -> Field | None:
        key = (table.key, name)
        if key not in self._fields:
            self._fields[key] = table.field(name)
        return self._fields[key]

    def _name(self, node: Name, env: Env) -> Any:
        scope = env.find(node.name)
        if scope is not None:
            return scope.vars[node.name]
        for rec in (env.ctx, env.this):
            if rec is not None:
                value = self.member(rec, node.name, node, _MISSING)
                if value is not _MISSING:
                    return value
        raise self.error(f"unknown name {node.name!r}", node)

    def member(self, rec: Rec, name: str, node: Node, default: Any = None) -> Any:
        """The value of field ``name`` of ``rec`` (a reverse reference gives a list)."""
        fld = self.field(rec.table, name)
        if fld is not None:
            return self.field_value(rec, fld, node)
        if name in ("Id", "id"):
            return Decimal(rec.id)
        for table in self.data.tables():
            if table.name != name:
                continue
            for ref in table.fields:
                if ref.type == "reference" and ref.ref_table == rec.table.id:
                    rows = self.data.rows(table).referencing(ref.id, rec.id)
                    return [Rec(table, row) for row in rows]
        if default is not None:
            return default
        raise self.error(f"table {rec.table.name!r} has no field {name!r}", node)

    def field_value(self, rec: Rec, fld: Field, node: Node) -> Any:
        kind = fld.type
        if kind == "formula":
            return self._formula(rec, fld, node)
        stored = rec.row.data.get(fld.id)
        if stored is None:
            return None
        if kind == "reference":
            target = self.data.table(fld.ref_table or "")
            if target is None:
                return None
            row = self.data.rows(target).by_id.get(stored)
            return Rec(target, row) if row is not None else None
        if kind == "choice":
            option = fld.option_by_id(stored)
            return Choice(option.id, option.caption) if option else None
        if kind == "multi":
            options = (fld.option_by_id(i) for i in stored)
            return [Choice(o.id, o.caption) for o in options if o]
        return to_python(fld, stored)

    def _formula(self, rec: Rec, fld: Field, node: Node) -> Any:
        if self._depth > 20:
            raise self.error(f"formula {fld.name!r} refers to itself", node)
        saved = self.source
        self._depth += 1
        try:
            self.source = fld.formula or ""
            return self.eval(parse_cached(self.source), Env(None, rec, rec))
        except NxError as exc:
            raise NxError(f"in formula {rec.table.name}.{fld.name}: {exc.message}") from None
        finally:
            self._depth -= 1
            self.source = saved

    def _path(self, node: Path, env: Env) -> Any:
        return self.path(self.eval(node.obj, env), node.name, node)

    def path(self, value: Any, name: str, node: Node) -> Any:
        if value is None:
            return None
        if isinstance(value, Rec):
            return self.member(value, name, node)
        if isinstance(value, list):
            out: list[Any] = []
            for item in value:
                got = self.path(item, name, node)
                if isinstance(got, list):
                    out.extend(got)
                elif got is not None:
                    out.append(got)
            return out
        raise self.error(f"'.{name}' needs a record, not {functions.kind(value)}", node)

    # -- selections ----------------------------------------------------------
    def table(self, name: str, node: Node) -> Table:
        table = self.data.table(name)
        if table is None:
            raise self.error(f"unknown table {name!r}", node)
        return table

    def _select(self, node: Select, env: Env) -> Any:
        table = self.table(node.table, node)
        if node.where is None:
            return [Rec(table, row) for row in self.data.rows(table).rows]
        exact = planner.by_ids(self, table, node.where, env)
        if exact is not None:
            return [Rec(table, row) for row in exact]
        rows = planner.narrow(self, table, node.where, env)
        if rows is None:
            rows = self.data.rows(table).rows
        records = [Rec(table, row) for row in rows]
        test = compiled.where_test(self, table, node.where, env)
        if test is not None:
            return [rec for rec in records if test(rec)]
        return self._keep(records, node.where, env)

    def _keep(self, records: list[Any], cond: Node, env: Env) -> list[Any]:
        child = Env(env, env.this, None)
        out = []
        for rec in records:
            child.ctx = rec
            if functions.truthy(self.eval(cond, child)):
                out.append(rec)
        return out

    def _filter(self, node: Filter, env: Env) -> Any:
        value = self.eval(node.obj, env)
        if value is None:
            return None
        if isinstance(value, Rec):
            kept = self._keep([value], node.cond, env)
            return kept[0] if kept else None
        if isinstance(value, list):
            return self._keep(value, node.cond, env)
        raise self.error(f"[…] filters records, not {functions.kind(value)}", node)

    def _order_by(self, node: OrderBy, env: Env) -> Any:
        value = self.eval(node.obj, env)
        items = value if isinstance(value, list) else [] if value is None else [value]
        child = Env(env, env.this, None)
        keyed = []
        for item in items:
            child.ctx = item if isinstance(item, Rec) else None
            keyed.append((functions.sort_key(self.eval(node.key, child)), item))
        keyed.sort(key=lambda pair: pair[0])
        return [item for _, item in keyed]

    # -- operators -----------------------------------------------------------
    def _unary(self, node: Unary, env: Env) -> Any:
        value = self.eval(node.operand, env)
        if node.op == "not":
            return not functions.truthy(value)
        if value is None:
            return None
        if isinstance(value, Decimal):
            return -value
        raise self.error(f"cannot negate {functions.kind(value)}", node)

    def _binary(self, node: Binary, env: Env) -> Any:
        op = node.op
        if op == "and":
            return functions.truthy(self.eval(node.left, env)) and functions.truthy(
                self.eval(node.right, env)
            )
        if op == "or":
            return functions.truthy(self.eval(node.left, env)) or functions.truthy(
                self.eval(node.right, env)
            )
        left = self.eval(node.left, env)
        right = self.eval(node.right, env)
        try:
            if op in ("+", "-", "*", "/"):
                return functions.arithmetic(op, left, right)
            return functions.compare(op, left, right)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.error(str(exc) or "division by zero", node) from None

    # -- statements ----------------------------------------------------------
    def _block(self, node: Block, env: Env) -> Any:
        scope = Env(env, env.this, env.ctx)
        value = None
        for statement in node.body:
            value = self.eval(statement, scope)
        return value

    def _let(self, node: Let, env: Env) -> Any:
        env.vars[node.name] = self.eval(node.value, env)
        return None

    def _if(self, node: If, env: Env) -> Any:
        if functions.truthy(self.eval(node.cond, env)):
            return self.eval(node.then, env)
        return self.eval(node.otherwise, env) if node.otherwise is not None else None

    def _for(self, node: For, env: Env) -> Any:
        if node.iterable is not None:
            value = self.eval(node.iterable, env)
            items = value if isinstance(value, list) else [] if value is None else [value]
        else:
            start = self.eval(node.start, env) if node.start else None
            stop = self.eval(node.stop, env) if node.stop else None
            if not isinstance(start, Decimal) or not isinstance(stop, Decimal):
                raise self.error("'for … from … to …' needs numbers", node)
            items = [Decimal(i) for i in range(int(start), int(stop))]
        results = []
        for item in items:
            scope = Env(env, env.this, env.ctx)
            scope.vars[node.var] = item
            results.append(self.eval(node.body, scope))
        return results

    def _call(self, node: Call, env: Env) -> Any:
        if node.name == "record":
            if len(node.args) != 2 or not isinstance(node.args[0], Name):
                raise self.error("record(Table, id) takes a table name and an id", node)
            table = self.table(node.args[0].name, node)
            rid = self.eval(node.args[1], env)
            row = self.data.rows(table).by_id.get(int(rid)) if rid is not None else None
            return Rec(table, row) if row is not None else None
        args = [self.eval(arg, env) for arg in node.args]
        try:
            return functions.call(node.name, args, self.data)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.error(str(exc), node) from None

    # -- writes --------------------------------------------------------------
    def _writable(self, what: str, node: Node) -> None:
        if not self.data.writable:
            raise self.error(f"{what} is not allowed in a query (read-only); use exec", node)

    def _create(self, node: Create, env: Env) -> Any:
        self._writable("'create'", node)
        table = self.table(node.table, node)
        return Rec(table, self.data.create(table))

    def _delete(self, node: Delete, env: Env) -> Any:
        self._writable("'delete'", node)
        value = self.eval(node.target, env)
        for rec in value if isinstance(value, list) else [value]:
            if isinstance(rec, Rec):
                self.data.delete(rec.table, rec.id)
            elif rec is not None:
                raise self.error(f"cannot delete {functions.kind(rec)}", node)
        return None

    def _with(self, node: With, env: Env) -> Any:
        value = self.eval(node.obj, env)
        if value is None:
            return None
        if not isinstance(value, Rec):
            raise self.error(f"'.(…)' needs a record, not {functions.kind(value)}", node)
        return self.eval(node.body, Env(env, env.this, value))

    def _assign(self, node: Assign, env: Env) -> Any:
        value = self.eval(node.value, env)
        target = node.target
        if isinstance(target, Name):
            scope = env.find(target.name)
            if scope is not None:
                scope.vars[target.name] = value
                return None
            rec = env.ctx
            if rec is None or self.field(rec.table, target.name) is None:
                raise self.error(f"unknown variable or field {target.name!r}", target)
            self.write(rec, target.name, value, node)
            return None
        assert isinstance(target, Path)
        obj = self.eval(target.obj, env)
        for rec in obj if isinstance(obj, list) else [obj]:
            if not isinstance(rec, Rec):
                raise self.error(f"cannot set a field of {functions.kind(rec)}", node)
            self.write(rec, target.name, value, node)
        return None

    def write(self, rec: Rec, name: str, value: Any, node: Node) -> None:
        """Set one field of a record (exec only)."""
        self._writable("setting a field", node)
        fld = self.field(rec.table, name)
        if fld is None:
            raise self.error(f"table {rec.table.name!r} has no field {name!r}", node)
        if fld.type == "formula":
            raise self.error(f"field {fld.name!r} is a formula and cannot be set", node)
        try:
            stored = to_storage(fld, functions.to_written(value))
        except FieldValueError as exc:
            raise self.error(str(exc), node) from None
        rec.row = self.data.update(rec.table, rec.id, {fld.id: stored})


def serialize(value: Any) -> Any:
    """The JSON form of a result: a record as ``"A6"``, a date as ``"2026-05-01"``."""
    if isinstance(value, Rec):
        return f"{value.table.id}{value.id}"
    if isinstance(value, Choice):
        return value.caption
    if isinstance(value, list):
        return [serialize(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value
