"""The one rule for text in exported spreadsheets: formula-like text stays text, numbers stay numbers."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter

from portal.lib.spreadsheet import XlsxText, csv_safe

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_quotes_formula_like_text_for_csv(payload: str) -> None:
    assert csv_safe(payload) == "'" + payload


@pytest.mark.parametrize("value", ["Lodge 12", "", "a=b", "MG-2026-00001", " =1"])
def test_it_leaves_ordinary_text_alone(value: str) -> None:
    assert csv_safe(value) == value


@pytest.mark.parametrize("value", [Decimal("-12.50"), -3, 0, None])
def test_it_leaves_numbers_and_blanks_alone(value: object) -> None:
    assert csv_safe(value) is value


def written(*values: str, **properties: object) -> list[openpyxl.cell.Cell]:
    """Write ``values`` down column A with ``XlsxText``; the cells as openpyxl reads them back."""
    content = io.BytesIO()
    workbook = xlsxwriter.Workbook(content, {"constant_memory": True})
    sheet = workbook.add_worksheet()
    text = XlsxText(workbook)
    for row, value in enumerate(values):
        text.write(sheet, row, 0, value, **properties)
    workbook.close()
    content.seek(0)
    return [row[0] for row in openpyxl.load_workbook(content).active.iter_rows()]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_writes_formula_like_text_to_xlsx_as_a_quoted_string(payload: str) -> None:
    [cell] = written(payload, bold=True)
    assert cell.data_type == "s"
    # Intact; a carriage return is stored as the OOXML escape _x000D_, which Excel decodes.
    assert cell.value == payload.replace("\r", "_x000D_")
    assert cell.quotePrefix
    assert cell.font.bold  # the quote prefix comes on top of the cell's own format


def test_it_writes_ordinary_text_to_xlsx_without_a_quote_prefix() -> None:
    [cell] = written("a=b")
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("a=b", "s", False)
