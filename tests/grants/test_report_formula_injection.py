"""Every report export keeps hostile text as text: no formula in the XLSX, a leading ' in the CSV."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from grants.models import ReportExport
from tests.conftest import client_for
from tests.factories import ApplicationFactory, LodgeFactory, NinoxGrantFactory

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
REPORTS = {
    "summary": "/reports/",
    "ledger": "/reports/ledger/",
    "reconciliation": "/reports/reconciliation/",
}


@pytest.fixture
def poisoned(db: Any) -> None:
    """A lodge, a charity, a purpose and a Ninox reference per payload; one lodge over its cap."""
    for index, payload in enumerate(PAYLOADS):
        lodge = LodgeFactory.create(
            ninox_id=7000 + index, number=700 + index, name=payload, district=payload
        )
        ApplicationFactory.create(
            paid=True,
            payment=None,
            reference=f"MG-X-{index:05d}",
            lodge=lodge,
            contact_name=payload,
            charity_name=payload,
            purpose=payload,
            amount_raised=Decimal("100.00"),
            amount_requested=Decimal("100.00"),
        )
        # a reference the portal never issued
        NinoxGrantFactory.create(
            ninox_id=7100 + index, lodge=lodge, reference=payload, amount=Decimal("50.00")
        )
    over = LodgeFactory.create(ninox_id=7999, number=799, name="Over the cap", district="North")
    # its Remaining is a negative amount
    NinoxGrantFactory.create(ninox_id=7199, lodge=over, amount=Decimal("9000.00"))


def content_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def csv_cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def assert_csv_is_neutralised(content: bytes) -> None:
    cells = [cell for row in csv_cells(content) for cell in row]
    for payload in PAYLOADS:
        assert "'" + payload in cells, payload
        assert payload not in cells, payload
    for cell in cells:
        if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
            Decimal(cell)  # only a (negative) amount may start so: it is a number


def assert_xlsx_is_neutralised(content: bytes) -> list[Any]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = {c.value for c in cells if isinstance(c.value, str)}
    for payload in PAYLOADS:
        # Intact, no quote added; a carriage return is stored as the OOXML escape _x000D_
        # (Excel decodes it; openpyxl shows it as written).
        assert payload.replace("\r", "_x000D_") in texts, payload
    return cells


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_a_report_csv_puts_a_quote_before_formula_like_text(
    poisoned: None, finance: Any, report: str
) -> None:
    response = client_for(finance).get(REPORTS[report], {"format": "csv"})
    assert response.status_code == 200
    assert_csv_is_neutralised(content_of(response))


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_a_report_xlsx_stores_formula_like_text_as_strings_never_formulas(
    poisoned: None, finance: Any, report: str
) -> None:
    response = client_for(finance).get(REPORTS[report], {"format": "xlsx"})
    assert response.status_code == 200
    assert_xlsx_is_neutralised(content_of(response))


def test_a_lodge_over_the_cap_shows_its_overage_as_a_number_never_a_negative_remaining(
    poisoned: None, finance: Any
) -> None:
    # (A negative amount staying a number, not formula-like text, is the writers' own test.)
    client = client_for(finance)
    rows = csv_cells(content_of(client.get("/reports/", {"format": "csv"})))
    header, over = rows[0], next(r for r in rows if r[1] == "Over the cap")
    assert Decimal(over[header.index("Remaining")]) == 0
    overage = Decimal(over[header.index("Over the cap by")])  # no quote: still a number
    assert overage > 0
    cells = assert_xlsx_is_neutralised(content_of(client.get("/reports/", {"format": "xlsx"})))
    numbers = [c for c in cells if isinstance(c.value, int | float)]
    assert not [c for c in numbers if c.value < 0]
    assert [c for c in numbers if Decimal(str(c.value)) == overage and c.data_type == "n"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_background_export_neutralises_formula_like_text(
    poisoned: None,
    finance: Any,
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr("grants.views.reports.REPORT_INLINE_MAX_ROWS", 1)
    client = client_for(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/reports/ledger/", {"format": fmt})
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert export.status == ReportExport.Status.DONE
    content = content_of(client.get(f"/reports/exports/{export.uuid}/download/"))
    if fmt == "csv":
        assert_csv_is_neutralised(content)
    else:
        assert_xlsx_is_neutralised(content)
