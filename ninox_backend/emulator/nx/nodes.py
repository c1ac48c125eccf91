"""The NX syntax tree. ``pos`` is the offset in the source, for error messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Node:
    pos: int


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: Any  # Decimal, str, bool or None


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class This(Node):
    pass


@dataclass(frozen=True, slots=True)
class Path(Node):
    """``obj.name``: a field of a record, or of every record of a list."""

    obj: Node
    name: str


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Select(Node):
    table: str
    where: Node | None


@dataclass(frozen=True, slots=True)
class Filter(Node):
    """``obj[cond]``: the records of ``obj`` for which ``cond`` holds."""

    obj: Node
    cond: Node


@dataclass(frozen=True, slots=True)
class OrderBy(Node):
    obj: Node
    key: Node


@dataclass(frozen=True, slots=True)
class Block(Node):
    """Statements separated by ``;``; the value is the last one's."""

    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Let(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class Assign(Node):
    """``target := value`` where target is a variable, a field, or ``r.Field``."""

    target: Node
    value: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    cond: Node
    then: Node
    otherwise: Node | None


@dataclass(frozen=True, slots=True)
class For(Node):
    var: str
    iterable: Node | None
    start: Node | None
    stop: Node | None
    body: Node


@dataclass(frozen=True, slots=True)
class Create(Node):
    table: str


@dataclass(frozen=True, slots=True)
class Delete(Node):
    target: Node


@dataclass(frozen=True, slots=True)
class With(Node):
    """``r.( … )``: a block run with ``r``'s fields as bare names."""

    obj: Node
    body: Node
