"""The one rule for text in exported spreadsheets: formula-like text stays text, numbers stay numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from portal.lib.spreadsheet import csv_safe, xlsx_safe

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


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_makes_an_explicit_string_cell_for_xlsx(payload: str) -> None:
    sheet = Workbook(write_only=True).create_sheet()
    cell = xlsx_safe(sheet, payload)
    assert cell.data_type == "s"
    assert cell.value == payload
    assert xlsx_safe(sheet, Decimal("-12.50")) == Decimal("-12.50")
