"""What every report is: named, typed columns and a stream of rows (tuples in column order)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

# Column kinds: how a value is written to CSV and XLSX and shown on the page.
TEXT, MONEY, DATE, DATETIME, NUMBER = "text", "money", "date", "datetime", "number"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = TEXT
    width: int = 14  # characters, for the XLSX column
    total: bool = False  # summed in the XLSX totals row


class Report(Protocol):
    slug: str
    title: str
    columns: tuple[Column, ...]

    def count(self) -> int:
        """How many rows ``rows()`` yields (a cheap count query)."""
        ...

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Every row, streamed: memory stays flat whatever the number of rows."""
        ...
