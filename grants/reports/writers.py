"""The report writers: CSV (streamed, UTF-8 with a BOM) and XLSX (openpyxl, write-only).

Both write row by row from ``report.rows()``, each value read by its column's key:
memory stays flat whatever the size.
CSV amounts are plain decimals (``1250.00``) so spreadsheets read them as numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from grants.reports.table import DATE, DATETIME, MONEY, Column, Report
from portal.lib.spreadsheet import csv_safe, xlsx_safe, xlsx_text_cell

BOM = "\ufeff"
MONEY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": CSV_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE}

Progress = Callable[[int], None]


class _Echo:
    """A file-like object whose ``write`` hands the line back (for streaming csv.writer)."""

    def write(self, value: str) -> str:
        return value


def _csv_value(value: Any, column: Column) -> Any:
    # Only text can be formula-like; amounts and dates come back from csv_value as text.
    return csv_safe(value) if isinstance(value, str) else column.csv_value(value)


def csv_lines(report: Report, *, progress: Progress | None = None) -> Iterator[str]:
    """The CSV text, one line at a time, starting with the BOM and the header."""
    writer = csv.writer(_Echo())
    columns = report.columns
    yield BOM + writer.writerow([csv_safe(column.header) for column in columns])
    for count, row in enumerate(report.rows(), start=1):
        yield writer.writerow([_csv_value(row[c.key], c) for c in columns])
        if progress and count % 1000 == 0:
            progress(count)


def write_csv(report: Report, target: IO[str], *, progress: Progress | None = None) -> None:
    for line in csv_lines(report, progress=progress):
        target.write(line)


def _cell(sheet: Any, value: Any, column: Column, *, bold: bool = False) -> WriteOnlyCell:
    cell = (
        xlsx_text_cell(sheet, value)
        if isinstance(value, str)
        else WriteOnlyCell(sheet, value=value)
    )
    if column.kind == MONEY:
        cell.number_format = MONEY_FORMAT
    elif column.kind == DATE:
        cell.number_format = DATE_FORMAT
    elif column.kind == DATETIME:
        cell.number_format = DATETIME_FORMAT
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(
    report: Report,
    target: str | Path | IO[bytes],
    *,
    subtitle: str = "",
    progress: Progress | None = None,
) -> int:
    """Write the workbook; returns the number of data rows. A bold totals row ends the sheet;
    the header has an autofilter."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=report.title[:31])
    columns = report.columns
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            column.width, len(column.header) + 2
        )
    sheet.append([_cell(sheet, column.header, column, bold=True) for column in columns])
    totals: dict[str, Decimal | int] = {column.key: 0 for column in columns if column.total}
    styled = {column.key for column in columns if column.kind in (MONEY, DATE, DATETIME)}
    count = 0
    for count, row in enumerate(report.rows(), start=1):
        # Amounts and dates need a styled cell; text an explicit string cell (never a formula).
        sheet.append(
            [
                _cell(sheet, row[column.key], column)
                if column.key in styled and row[column.key] is not None
                else xlsx_safe(sheet, row[column.key])
                for column in columns
            ]
        )
        for key in totals:
            if row[key] is not None:
                totals[key] += row[key]
        if progress and count % 1000 == 0:
            progress(count)
    # The filter covers the header and the rows, never the totals row below them.
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    sheet.append(_totals_row(sheet, columns, totals))
    if subtitle:
        sheet.append([])
        sheet.append([xlsx_safe(sheet, subtitle)])
    workbook.save(target)
    return count


def _totals_row(
    sheet: Any, columns: Iterable[Column], totals: dict[str, Decimal | int]
) -> list[Any]:
    cells = []
    for index, column in enumerate(columns):
        if index == 0:
            cells.append(_cell(sheet, "Total", column, bold=True))
        elif column.total:
            value = totals[column.key]
            if column.kind == MONEY:
                value = Decimal(value).quantize(Decimal("0.01"))
            cells.append(_cell(sheet, value, column, bold=True))
        else:
            cells.append(WriteOnlyCell(sheet, value=None))
    return cells


def file_name(report: Report, fy_label: str, extension: str) -> str:
    return f"{report.slug}-{fy_label.replace(' ', '-')}.{extension}"


__all__ = [
    "CONTENT_TYPES",
    "csv_lines",
    "file_name",
    "write_csv",
    "write_xlsx",
]
