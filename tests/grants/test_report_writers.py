"""The XLSX writer on its own: types, formats, the frozen header and the totals row."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.utils import timezone

from grants.reports.table import DATE, DATETIME, MONEY, NUMBER, TEXT, Column, Row
from grants.reports.writers import MONEY_FORMAT, write_xlsx


class TinyReport:
    slug = "tiny"
    title = "Tiny report"
    columns: tuple[Column, ...] = (
        Column("name", "Name", TEXT, 20),
        Column("amount", "Amount", MONEY, 12, total=True),
        Column("day", "Day", DATE),
        Column("at", "At", DATETIME),
        Column("count", "Count", NUMBER, total=True),
    )

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def count(self) -> int:
        return len(self._rows)

    def rows(self) -> Iterator[Row]:
        return iter(self._rows)


AT = datetime(2026, 5, 1, 17, 30, tzinfo=UTC)
ROWS: list[Row] = [
    {
        "name": "Kilwinning",
        "amount": Decimal("1250.50"),
        "day": date(2026, 5, 1),
        "at": AT,
        "count": 2,
    },
    {"name": "=HYPERLINK(1)", "amount": Decimal("-0.25"), "day": None, "at": None, "count": 1},
]


def written(rows: list[Row], **options: Any) -> Any:
    target = io.BytesIO()
    write_xlsx(TinyReport(rows), target, **options)
    target.seek(0)
    return openpyxl.load_workbook(target).active


@pytest.mark.django_db
def test_the_xlsx_has_typed_cells_formats_a_frozen_header_and_a_bold_totals_row() -> None:
    sheet = written(ROWS)
    assert sheet.title == "Tiny report"
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]] == ["Name", "Amount", "Day", "At", "Count"]
    assert all(c.font.bold for c in sheet[1])
    name, amount, day, at, count = sheet[2]
    assert name.value == "Kilwinning"
    assert amount.value == 1250.5
    assert amount.number_format == MONEY_FORMAT
    assert day.value == datetime(2026, 5, 1)
    assert day.number_format == "yyyy-mm-dd"
    # An aware moment is written as the portal's local time (17:30 UTC is 12:30 in Chicago).
    assert at.value == timezone.localtime(AT).replace(tzinfo=None)
    assert at.number_format == "yyyy-mm-dd hh:mm"
    assert count.value == 2
    formula_like = sheet["A3"]
    assert (formula_like.value, formula_like.data_type, formula_like.quotePrefix) == (
        "=HYPERLINK(1)",
        "s",
        True,
    )
    assert sheet["C3"].value is None
    totals = sheet[4]
    assert [c.value for c in totals] == ["Total", 1250.25, None, None, 3]
    assert totals[1].number_format == MONEY_FORMAT
    assert totals[0].font.bold
    assert totals[1].font.bold


@pytest.mark.django_db
def test_it_reports_progress_every_thousand_rows_and_returns_the_row_count() -> None:
    seen: list[int] = []
    rows = [{**ROWS[1], "name": f"Lodge {i}"} for i in range(2500)]
    target = io.BytesIO()
    assert write_xlsx(TinyReport(rows), target, progress=seen.append) == 2500
    assert seen == [1000, 2000]
