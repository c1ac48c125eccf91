"""The values of NX that are not plain Python: a record and a choice.

Apart from the evaluator so that :mod:`.functions` (which the evaluator imports) can
use them without an import on every call.
"""

from __future__ import annotations

from decimal import Decimal

from ..schema import Table
from ..store import Row


class Rec:
    """A record in NX: equal to another when it is the same table and id."""

    __slots__ = ("row", "table")

    def __init__(self, table: Table, row: Row) -> None:
        self.table = table
        self.row = row

    @property
    def id(self) -> int:
        return self.row.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rec) and other.table.key == self.table.key and other.id == self.id

    def __hash__(self) -> int:
        return hash((self.table.key, self.row.id))

    def __repr__(self) -> str:
        return f"{self.table.id}{self.row.id}"


class Choice:
    """A choice value: equal to its caption (text) or its id (number)."""

    __slots__ = ("caption", "id")

    def __init__(self, option_id: int, caption: str) -> None:
        self.id = option_id
        self.caption = caption

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Choice):
            return other.id == self.id and other.caption == self.caption
        if isinstance(other, str):
            return other == self.caption
        if isinstance(other, Decimal | int) and not isinstance(other, bool):
            return other == self.id
        return False

    def __hash__(self) -> int:
        return hash(self.caption)

    def __repr__(self) -> str:
        return self.caption
