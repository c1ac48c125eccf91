"""Text in exported spreadsheets stays text: no cell becomes a live formula.

Text in a report comes from the public form, from Ninox or from a login attempt. A
spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return before one) as a formula, so a charity named
``=HYPERLINK(...)`` would run in the reader's spreadsheet (OWASP "CSV injection").

- CSV has no types: such text gets a leading ``'``, which spreadsheets show as text.
- XLSX has types: such text is written as an explicit string cell (never a formula),
  unchanged, and marked "quote prefix" so that editing the cell keeps it text.

Only text is touched: numbers (``Decimal`` money, negative amounts too) stay numbers.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell import WriteOnlyCell

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (only text can)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: formula-like text gets a leading ``'``; anything else as is."""
    if is_formula_like(value):
        return "'" + value
    return value


def xlsx_text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    """A write-only XLSX cell holding ``value`` as a string, whatever its first character."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    if is_formula_like(value):
        cell.quotePrefix = True
    return cell


def xlsx_safe(sheet: Any, value: Any) -> Any:
    """``value`` for a write-only XLSX row: text becomes an explicit string cell."""
    if isinstance(value, str):
        return xlsx_text_cell(sheet, value)
    return value


__all__ = ["FORMULA_STARTS", "csv_safe", "is_formula_like", "xlsx_safe", "xlsx_text_cell"]
