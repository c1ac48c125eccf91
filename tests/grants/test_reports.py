"""Finance reports: CSV and XLSX contents against figures computed from the rows themselves,
every planted reconciliation mismatch found, background exports for their owner only."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grants.models import Application, Lodge, NinoxGrant, Payment, ReportExport, Status
from grants.reports import reconciliation as rec
from grants.reports.catalog import REPORTS
from grants.reports.export_jobs import export_path, report_exports_purge
from grants.reports.filters import ReportFilters
from grants.rules import current_fiscal_year
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


@dataclass
class Planted:
    lodges: dict[str, Lodge]
    fy: int
    expected_mismatches: set[tuple[str, str]]


def _lodge(ninox_id: int, number: int, district: str, **extra: Any) -> Lodge:
    return Lodge.objects.create(
        ninox_id=ninox_id, number=number, name=f"Lodge {number}", district=district, **extra
    )


def _application(
    reference: str, lodge: Lodge, status: str, match: str = "500.00", share: str = "500.00"
) -> Application:
    now = timezone.now()
    decided = status not in (Status.SUBMITTED, Status.NEEDS_REVIEW)
    return Application.objects.create(
        reference=reference,
        lodge=lodge,
        lodge_number=lodge.number,
        contact_name="Jo",
        contact_email="jo@example.org",
        charity_name=f"Charity of {reference}",
        purpose="Winter appeal, with a comma",
        amount_raised=Decimal(share),
        amount_requested=Decimal(match),
        event_date=timezone.localdate(),
        status=status,
        fiscal_year=current_fiscal_year().key,
        grant_date=timezone.localdate() if status in (Status.APPROVED, Status.PAID) else None,
        decided_at=now if decided else None,
        paid_at=now if status == Status.PAID else None,
    )


def _payment(session: str, application: Application | None, amount: str) -> Payment:
    return Payment.objects.create(
        application=application,
        stripe_session_id=session,
        stripe_payment_intent_id=f"pi_{session}",
        amount=Decimal(amount),
        status=Payment.Status.PAID,
        paid_at=timezone.now(),
        flagged=application is None,
        flag_reason="no application has this session" if application is None else "",
    )


def _ninox(ninox_id: int, lodge: Lodge, reference: str, amount: str, status: str) -> NinoxGrant:
    today = timezone.localdate()
    return NinoxGrant.objects.create(
        ninox_id=ninox_id,
        lodge=lodge,
        reference=reference,
        amount=Decimal(amount),
        grant_date=today,
        fiscal_year=current_fiscal_year().key,
        charity="By hand" if not reference else "Charity",
        status=status,
        paid_at=timezone.now() if status == "Paid" else None,
    )


@pytest.fixture
def planted(db: Any) -> Planted:
    north1 = _lodge(9001, 101, "North")
    south = _lodge(9002, 102, "South")
    north2 = _lodge(9003, 103, "North")
    _lodge(9004, 104, "South", active=False)  # no activity, inactive: not in the summary
    good = _application("MG-T-00001", north1, Status.PAID)
    _payment("cs_good", good, "500.00")
    _ninox(1, north1, good.reference, "500.00", "Paid")
    not_in_ninox = _application("MG-T-00002", north1, Status.PAID, match="300.00", share="250.00")
    _payment("cs_not_in_ninox", not_in_ninox, "250.00")
    portal_unpaid = _application("MG-T-00003", south, Status.APPROVED, match="400.00")
    _payment("cs_portal_unpaid", portal_unpaid, "500.00")
    short = _application("MG-T-00004", south, Status.PAID)
    _payment("cs_short", short, "450.00")
    _ninox(2, south, short.reference, "500.00", "Paid")
    no_payment = _application("MG-T-00005", north1, Status.PAID, match="200.00", share="200.00")
    _ninox(3, north1, no_payment.reference, "200.00", "Paid")
    ninox_more = _application("MG-T-00006", south, Status.PAID)
    _payment("cs_ninox_more", ninox_more, "500.00")
    _ninox(4, south, ninox_more.reference, "600.00", "Paid")
    ninox_status = _application("MG-T-00007", north2, Status.PAID, match="150.00", share="150.00")
    _payment("cs_ninox_status", ninox_status, "150.00")
    _ninox(5, north2, ninox_status.reference, "150.00", "Approved")
    _payment("cs_orphan", None, "75.00")
    _ninox(6, south, "MG-T-99999", "333.00", "Paid")  # a reference the portal never issued
    _ninox(7, north2, "", "300.00", "Paid")  # entered by hand: not a mismatch
    _ninox(8, south, "", "200.00", NinoxGrant.CANCELLED)  # by hand and cancelled
    _application("MG-T-00008", south, Status.REJECTED, match="900.00")
    _application("MG-T-00009", north1, Status.NEEDS_REVIEW, match="100.00")
    expected = {
        (rec.PAID_NOT_IN_NINOX, "MG-T-00002"),
        (rec.STRIPE_PAID_PORTAL_NOT, "MG-T-00003"),
        (rec.PAID_NOT_IN_NINOX, "MG-T-00003"),
        (rec.STRIPE_AMOUNT_DIFFERS, "MG-T-00004"),
        (rec.PORTAL_PAID_WITHOUT_PAYMENT, "MG-T-00005"),
        (rec.NINOX_WITHOUT_PAYMENT, "MG-T-00005"),
        (rec.NINOX_AMOUNT_DIFFERS, "MG-T-00006"),
        (rec.NINOX_STATUS_DIFFERS, "MG-T-00007"),
        (rec.PAYMENT_WITHOUT_APPLICATION, ""),
        (rec.NINOX_UNKNOWN_REFERENCE, "MG-T-99999"),
    }
    return Planted(
        lodges={"north1": north1, "south": south, "north2": north2},
        fy=current_fiscal_year().key,
        expected_mismatches=expected,
    )


def read_csv(response: Any) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode()), "a BOM, so spreadsheet programs read UTF-8"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def read_xlsx(response: Any) -> tuple[Any, list[str], list[tuple[Any, ...]], tuple[Any, ...]]:
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return sheet, list(rows[0]), rows[1:-1], rows[-1]


def money(text: str) -> Decimal:
    return Decimal(text) if text else Decimal("0.00")


def independent_lodge_figures() -> dict[int, dict[str, Decimal | int]]:
    """Per lodge number, from the model rows: approved, paid, count of grants (not the code)."""
    figures: dict[int, dict[str, Decimal | int]] = {}
    refs = set(Application.objects.values_list("reference", flat=True))
    for a in Application.objects.select_related("lodge"):
        f = figures.setdefault(a.lodge_number, {"approved": Decimal(0), "paid": Decimal(0), "n": 0})
        if a.status in ("approved", "paid"):
            f["approved"] += a.amount_requested
            f["n"] += 1
        if a.status == "paid":
            f["paid"] += a.amount_requested
    for g in NinoxGrant.objects.select_related("lodge"):
        if g.reference in refs or g.status == "Cancelled":
            continue
        f = figures.setdefault(
            g.lodge.number if g.lodge else 0, {"approved": Decimal(0), "paid": Decimal(0), "n": 0}
        )
        f["approved"] += g.amount
        f["n"] += 1
        if g.status == "Paid":
            f["paid"] += g.amount
    return figures


def test_the_summary_csv_has_each_lodges_figures_from_ninox_and_the_portal(
    planted: Planted, finance: Any
) -> None:
    response = client_for(finance).get("/reports/", {"fy": str(planted.fy), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {int(r["Lodge number"]): r for r in read_csv(response)}
    assert set(rows) == {101, 102, 103}  # the inactive lodge with nothing is left out
    for number, expected in independent_lodge_figures().items():
        row = rows[number]
        assert money(row["Approved"]) == expected["approved"], number
        assert money(row["Paid"]) == expected["paid"], number
        assert money(row["Pending"]) == expected["approved"] - expected["paid"], number
        assert int(row["Grants"]) == expected["n"], number
        assert money(row["Cap"]) == Decimal("4000.00")
    # Remaining is the lodge's budget as decisions see it: Ninox's amount where Ninox has it.
    assert money(rows[102]["Remaining"]) == Decimal("4000.00") - (
        Decimal("400.00") + Decimal("500.00") + Decimal("600.00") + Decimal("333.00")
    )


def test_the_summary_xlsx_has_numbers_a_currency_format_a_frozen_header_and_totals(
    planted: Planted, finance: Any
) -> None:
    response = client_for(finance).get("/reports/", {"fy": str(planted.fy), "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet, header, rows, totals = read_xlsx(response)
    assert header[:9] == [
        "Lodge number",
        "Lodge",
        "District",
        "Cap",
        "Approved",
        "Paid",
        "Pending",
        "Remaining",
        "Grants",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet["E2"].number_format.startswith('"$"#,##0.00')
    assert isinstance(sheet["E2"].value, int | float)
    assert sheet.column_dimensions["B"].width >= 20
    figures = independent_lodge_figures()
    assert totals[0] == "Total"
    approved: Decimal = sum((Decimal(f["approved"]) for f in figures.values()), Decimal(0))
    paid: Decimal = sum((Decimal(f["paid"]) for f in figures.values()), Decimal(0))
    assert Decimal(str(totals[4])).quantize(CENT) == approved
    assert Decimal(str(totals[5])).quantize(CENT) == paid
    assert totals[8] == sum(int(f["n"]) for f in figures.values())
    # The totals row adds up the rows above it.
    for index in (3, 4, 5, 6, 7):
        column_sum = sum((Decimal(str(r[index])) for r in rows), Decimal(0))
        assert Decimal(str(totals[index])).quantize(CENT) == column_sum.quantize(CENT)


def test_the_ledger_csv_and_xlsx_have_one_row_per_grant_with_the_same_figures(
    planted: Planted, finance: Any
) -> None:
    client = client_for(finance)
    csv_rows = read_csv(client.get("/reports/ledger/", {"fy": str(planted.fy), "format": "csv"}))
    _sheet, header, xlsx_rows, totals = read_xlsx(
        client.get("/reports/ledger/", {"fy": str(planted.fy), "format": "xlsx"})
    )
    by_hand = NinoxGrant.objects.filter(reference="").count()
    unknown = NinoxGrant.objects.exclude(reference="").exclude(
        reference__in=Application.objects.values("reference")
    )
    assert len(csv_rows) == Application.objects.count() + by_hand + unknown.count()
    assert len(xlsx_rows) == len(csv_rows)
    references = [r["Reference"] for r in csv_rows]
    assert references[:9] == [f"MG-T-0000{i}" for i in range(1, 10)]
    row = next(r for r in csv_rows if r["Reference"] == "MG-T-00004")
    assert row["Stripe session"] == "cs_short"
    assert row["Amount paid"] == "450.00"
    assert row["Lodge share"] == "500.00"
    assert row["Ninox record"] == "2"
    assert row["Purpose"] == "Winter appeal, with a comma"
    approved = (
        sum(
            (
                a.amount_requested
                for a in Application.objects.filter(status__in=["approved", "paid"])
            ),
            Decimal(0),
        )
        + sum(
            (g.amount for g in NinoxGrant.objects.filter(reference="").exclude(status="Cancelled")),
            Decimal(0),
        )
        + sum((g.amount for g in unknown), Decimal(0))
    )
    assert sum(money(r["Approved"]) for r in csv_rows) == approved
    approved_col = header.index("Approved")
    assert Decimal(str(totals[approved_col])).quantize(CENT) == approved
    submitted_col = header.index("Submitted")
    assert xlsx_rows[0][submitted_col].date() == timezone.localdate()  # a date, not text
    assert xlsx_rows[0][header.index("Reference")] == "MG-T-00001"


def test_the_reconciliation_finds_every_kind_of_planted_mismatch(
    planted: Planted, finance: Any
) -> None:
    response = client_for(finance).get("/reports/reconciliation/", {"format": "csv"})
    rows = read_csv(response)
    found = {(r["Mismatch"], r["Reference"]) for r in rows}
    assert found == planted.expected_mismatches
    assert {kind for kind, _ in found} == set(rec.KINDS)
    differs = next(r for r in rows if r["Mismatch"] == rec.NINOX_AMOUNT_DIFFERS)
    assert differs["What differs"] == "Ninox says $600.00; the portal's match is $500.00."
    page = client_for(finance).get("/reports/reconciliation/").content.decode()
    assert "Stripe took $450.00; the lodge share is $500.00." in page


@pytest.mark.parametrize("slug", sorted(REPORTS))
def test_every_row_of_a_report_has_exactly_its_columns_keys(planted: Planted, slug: str) -> None:
    report = REPORTS[slug](ReportFilters.from_query(QueryDict(f"fy={planted.fy}")))
    keys = [column.key for column in report.columns]
    assert len(set(keys)) == len(keys)
    rows = list(report.rows())
    assert rows
    for row in rows:
        assert list(row) == keys


def test_the_filters_narrow_the_rows_and_a_bad_date_names_its_field(
    planted: Planted, finance: Any
) -> None:
    client = client_for(finance)
    north = read_csv(client.get("/reports/ledger/", {"district": "North", "format": "csv"}))
    assert {r["District"] for r in north} == {"North"}
    paid = read_csv(client.get("/reports/ledger/", {"status": "paid", "format": "csv"}))
    assert all(r["Status"] in ("Paid",) for r in paid)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    none = read_csv(client.get("/reports/ledger/", {"date_from": tomorrow, "format": "csv"}))
    assert none == []
    bad = client.get("/reports/ledger/", {"date_from": "31/12/2026"})
    assert "From: enter a date like 2026-05-01." in bad.content.decode()
    htmx = client.get(
        "/reports/ledger/",
        {"date_from": "nope"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert htmx.status_code == 422
    assert "<html" not in htmx.content.decode()
    assert client.get("/reports/ledger/", {"format": "pdf"}).status_code == 200


def test_the_finance_page_draws_accessible_svg_charts_without_style_attributes(
    planted: Planted, finance: Any
) -> None:
    page = client_for(finance).get("/reports/").content.decode()
    assert page.count("<svg") == 2
    assert '<title id="chart-months-title">Approved and paid per month' in page
    assert "<desc" in page
    assert "approved $" in page
    assert "style=" not in page
    assert "<script>" not in page
    assert 'role="img"' in page


def test_each_report_page_makes_a_fixed_number_of_queries(planted: Planted, finance: Any) -> None:
    client = client_for(finance)
    counts: dict[str, list[int]] = {}
    for step in range(2):
        for url in ("/reports/", "/reports/ledger/", "/reports/reconciliation/"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(captured))
        lodge = planted.lodges["south"]
        for i in range(15):
            app = _application(f"MG-U-{step}{i:04d}", lodge, Status.PAID, match="10.00")
            _payment(f"cs_more_{step}_{i}", app, "9.00")
    for url, seen in counts.items():
        assert seen[0] == seen[1], url


def test_a_large_export_runs_in_the_background_for_its_owner_only(
    planted: Planted,
    finance: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr("grants.views.reports.REPORT_INLINE_MAX_ROWS", 3)
    client = client_for(finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/reports/ledger/", {"format": "csv", "district": "North"})
    assert response.status_code == 302
    export = ReportExport.objects.get()
    assert response["Location"] == f"/reports/exports/{export.uuid}/"
    status = client.get(response["Location"], headers={"HX-Request": "true"})
    assert "Ready." in status.content.decode()
    download = client.get(f"/reports/exports/{export.uuid}/download/")
    assert download.status_code == 200
    monkeypatch.setattr("grants.views.reports.REPORT_INLINE_MAX_ROWS", 5000)
    inline = client.get("/reports/ledger/", {"format": "csv", "district": "North"})
    assert b"".join(download.streaming_content) == b"".join(inline.streaming_content)  # type: ignore[attr-defined]
    other = client_for(make_user("fiona", "Finance"))
    assert other.get(f"/reports/exports/{export.uuid}/").status_code == 404
    assert other.get(f"/reports/exports/{export.uuid}/download/").status_code == 404
    path = export_path(export)
    assert path.exists()
    assert report_exports_purge(now=timezone.now() + timedelta(hours=25)) == 1
    assert not path.exists()
    assert client.get(f"/reports/exports/{export.uuid}/").status_code == 404


def test_a_waiting_export_shows_its_progress_and_polls(
    planted: Planted, finance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grants.views.reports.REPORT_INLINE_MAX_ROWS", 3)
    client = client_for(finance)
    response = client.get("/reports/ledger/", {"format": "xlsx"})  # on_commit never runs here
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 2s"' in page
    assert "0 of " in page
    assert "<progress" in page


@pytest.mark.parametrize("url", ["/reports/", "/reports/ledger/", "/reports/reconciliation/"])
def test_the_last_date_there_is_as_the_end_of_the_range_is_not_a_500(
    planted: Planted, finance: Any, url: str
) -> None:
    # The day after 9999-12-31 cannot be made: the range stays open at its end.
    response = client_for(finance).get(url, {"date_to": "9999-12-31"})
    assert response.status_code == 200
    assert "Please correct the filters" not in response.content.decode()
