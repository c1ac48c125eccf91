"""Text in exported spreadsheets stays text: no cell becomes a live formula.

Text in a report comes from the public form, from Ninox or from a login attempt. A
spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return before one) as a formula, so a charity named
``=HYPERLINK(...)`` would run in the reader's spreadsheet (OWASP "CSV injection").

- CSV has no types: such text gets a leading ``'``, which spreadsheets show as text.
- XLSX has types: such text is written as an explicit string cell (never a formula),
  unchanged, and marked "quote prefix" so that editing the cell keeps it text
  (``XlsxText``, for XlsxWriter worksheets).

Only text is touched: numbers (``Decimal`` money, negative amounts too) stay numbers.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(value: object) -> bool:
    """Whether a spreadsheet could read ``value`` as a formula (only text can)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: Any) -> Any:
    """``value`` for a CSV cell: formula-like text gets a leading ``'``; anything else as is."""
    if is_formula_like(value):
        return "'" + value
    return value


class XlsxText:
    """Text in an XlsxWriter workbook, written as string cells whatever its first character.

    ``write_string`` never makes a formula; formula-like text also gets the quote
    prefix on top of the cell's other properties. ``format(**properties)`` gives one
    shared XlsxWriter format per set of properties (``None`` for none).
    """

    def __init__(self, workbook: Any) -> None:
        self.workbook = workbook
        self._formats: dict[tuple[tuple[str, Any], ...], Any] = {}

    def format(self, **properties: Any) -> Any:
        if not properties:
            return None
        key = tuple(sorted(properties.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(properties)
        return self._formats[key]

    def write(self, sheet: Any, row: int, col: int, value: str, **properties: Any) -> None:
        if is_formula_like(value):
            properties["quote_prefix"] = True
        sheet.write_string(row, col, value, self.format(**properties))


__all__ = ["FORMULA_STARTS", "XlsxText", "csv_safe", "is_formula_like"]
