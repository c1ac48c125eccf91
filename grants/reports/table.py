"""What every report is: columns declared once, and a stream of rows keyed by column key.

A column says its key (the row's dict key), its header, its kind and its XLSX width; the
page preview and the CSV and XLSX writers all read a row as ``row[column.key]``, so a
column cannot shift against its values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from grants.money import format_money
from portal.lib.dates import portal_date, portal_datetime

# Column kinds: how a value is written to CSV and XLSX and shown on the page.
TEXT, MONEY, DATE, DATETIME, NUMBER = "text", "money", "date", "datetime", "number"

Row = dict[str, Any]
NOT_HELD = "—"  # an amount the row's record does not have (a grant entered in Ninox)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = TEXT
    width: int = 14  # characters, for the XLSX column
    total: bool = False  # summed in the XLSX totals row
    more: bool = False  # on the page, behind the row's "More" (the table leads with the rest)
    warn: bool = False  # on the page, a value above zero is a warning (red), e.g. over the cap

    def warns(self, value: Any) -> bool:
        return self.warn and isinstance(value, Decimal | int) and value > 0

    @property
    def numeric(self) -> bool:
        """Right-aligned on the page."""
        return self.kind in (MONEY, NUMBER)

    def page_text(self, value: Any) -> str:
        """The value as the page's table shows it; an amount a row does not have is "—"."""
        if self.kind == MONEY and value is None:
            return NOT_HELD
        if value is None or value == "":
            return ""
        if self.kind == MONEY:
            return format_money(value)
        if self.kind == DATE and isinstance(value, date):
            return portal_date(value)
        if self.kind == DATETIME and isinstance(value, datetime):
            return portal_datetime(value)
        return str(value)

    def csv_value(self, value: Any) -> Any:
        """The value as the CSV has it (text still goes through ``csv_safe``)."""
        if value is None:
            return ""
        if self.kind == MONEY and isinstance(value, Decimal):
            return f"{value:.2f}"
        if self.kind == DATETIME and isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        return value


class Report(Protocol):
    slug: str
    title: str
    columns: tuple[Column, ...]

    def count(self) -> int:
        """How many rows ``rows()`` yields (a cheap count query)."""
        ...

    def rows(self) -> Iterator[Row]:
        """Every row, keyed by column key, streamed: memory stays flat whatever the size."""
        ...


def totals_label(report: Report, count: int) -> str:
    """The totals row's first cell: "Total", or, for a report with no column to add up (the
    reconciliation, whose rows are findings: a sum would count a payment once per finding),
    how many rows it has ("Total: 14 findings")."""
    if any(column.total for column in report.columns):
        return "Total"
    noun = getattr(report, "row_noun", "row")
    return f"Total: {count} {noun}{'' if count == 1 else 's'}"
