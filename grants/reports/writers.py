"""The report writers: CSV (streamed, UTF-8 with a BOM) and XLSX (XlsxWriter, constant memory).

Both write row by row from ``report.rows()``, each value read by its column's key:
memory stays flat whatever the size.
CSV amounts are plain decimals (``1250.00``) so spreadsheets read them as numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import xlsxwriter
from django.utils import timezone

from grants.reports.table import DATE, DATETIME, MONEY, Column, Report, totals_label
from portal.lib.spreadsheet import XlsxText, csv_safe, is_formula_like

BOM = "\ufeff"
MONEY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
NUMBER_FORMATS = {MONEY: MONEY_FORMAT, DATE: DATE_FORMAT, DATETIME: DATETIME_FORMAT}
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


def write_xlsx(
    report: Report,
    target: str | Path | IO[bytes],
    *,
    subtitle: str = "",
    progress: Progress | None = None,
) -> int:
    """Write the workbook; returns the number of data rows. A bold totals row ends the sheet;
    the header has an autofilter.

    XlsxWriter in constant-memory mode: each row goes to a temporary file as soon as
    the next one starts, so memory stays flat. Rows must be written top to bottom.
    """
    workbook = xlsxwriter.Workbook(
        str(target) if isinstance(target, Path) else target, {"constant_memory": True}
    )
    text = XlsxText(workbook)
    sheet = workbook.add_worksheet(report.title[:31])
    columns = report.columns
    sheet.freeze_panes(1, 0)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, max(column.width, len(column.header) + 2))
        text.write(sheet, 0, index, column.header, bold=True)
    formats = [_number_format(text, column) for column in columns]
    keys = [column.key for column in columns]
    totals: dict[str, Decimal | int] = {column.key: 0 for column in columns if column.total}
    # The hot loop (a million cells for 50,000 rows): text and amounts written directly,
    # with the one formula rule of portal.lib.spreadsheet; anything else through _write.
    write_string, write_number = sheet.write_string, sheet.write_number
    quoted = text.format(quote_prefix=True)
    count = 0
    for count, row in enumerate(report.rows(), start=1):
        for index, key in enumerate(keys):
            value = row[key]
            kind = type(value)
            if kind is str:
                if value:
                    write_string(count, index, value, quoted if is_formula_like(value) else None)
            elif kind is Decimal or kind is int:
                write_number(count, index, value, formats[index])
            elif value is not None:
                _write(sheet, text, count, index, value, formats[index])
        for key in totals:
            if row[key] is not None:
                totals[key] += row[key]
        if progress and count % 1000 == 0:
            progress(count)
    # The filter covers the header and the rows, never the bold totals row below them.
    sheet.autofilter(0, 0, count, len(columns) - 1)
    _write_totals(sheet, text, count + 1, columns, totals, totals_label(report, count))
    if subtitle:
        text.write(sheet, count + 3, 0, subtitle)
    workbook.close()
    return count


def _number_format(text: XlsxText, column: Column) -> Any:
    number_format = NUMBER_FORMATS.get(column.kind)
    return text.format(num_format=number_format) if number_format else None


def _write(sheet: Any, text: XlsxText, row: int, col: int, value: Any, cell_format: Any) -> None:
    """One cell by the value's type: text never a formula, amounts numbers, dates dates."""
    if isinstance(value, str):
        text.write(sheet, row, col, value)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, Decimal | int | float):
        sheet.write_number(row, col, value, cell_format)
    elif isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        sheet.write_datetime(
            row, col, value, cell_format or text.format(num_format=DATETIME_FORMAT)
        )
    elif isinstance(value, date):
        sheet.write_datetime(row, col, value, cell_format or text.format(num_format=DATE_FORMAT))
    else:
        text.write(sheet, row, col, str(value))


def _write_totals(
    sheet: Any,
    text: XlsxText,
    row: int,
    columns: Iterable[Column],
    totals: dict[str, Decimal | int],
    label: str,
) -> None:
    for index, column in enumerate(columns):
        if index == 0:
            text.write(sheet, row, index, label, bold=True)
        elif column.total:
            value = totals[column.key]
            if column.kind == MONEY:
                value = Decimal(value).quantize(Decimal("0.01"))
            number_format = NUMBER_FORMATS.get(column.kind)
            properties = {"num_format": number_format} if number_format else {}
            sheet.write_number(row, index, value, text.format(bold=True, **properties))


def file_name(report: Report, fy_label: str, extension: str) -> str:
    return f"{report.slug}-{fy_label.replace(' ', '-')}.{extension}"


__all__ = [
    "CONTENT_TYPES",
    "csv_lines",
    "file_name",
    "write_csv",
    "write_xlsx",
]
