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

from grants.models import Application, Lodge, NinoxGrant, ReportExport
from grants.reports import reconciliation as rec
from grants.reports.catalog import REPORTS
from grants.reports.export_jobs import export_path, report_exports_purge
from grants.reports.filters import ReportFilters
from grants.rules import current_fiscal_year
from tests.conftest import client_for
from tests.factories import ApplicationFactory, LodgeFactory, NinoxGrantFactory, PaymentFactory

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


@dataclass
class Planted:
    lodges: dict[str, Lodge]
    fy: int
    expected_mismatches: set[tuple[str, str]]


class LedgerApplicationFactory(ApplicationFactory):
    """The planted applications: both amounts $500.00 unless said, a purpose the CSV must quote."""

    amount_raised = Decimal("500.00")
    amount_requested = Decimal("500.00")
    purpose = "Winter appeal, with a comma"


@pytest.fixture
def planted(db: Any) -> Planted:
    north1 = LodgeFactory.create(ninox_id=9001, number=101, district="North")
    south = LodgeFactory.create(ninox_id=9002, number=102, district="South")
    north2 = LodgeFactory.create(ninox_id=9003, number=103, district="North")
    # no activity, inactive: not in the summary
    LodgeFactory.create(ninox_id=9004, number=104, district="South", active=False)
    good = LedgerApplicationFactory.create(
        paid=True, reference="MG-T-00001", lodge=north1, payment__stripe_session_id="cs_good"
    )
    NinoxGrantFactory.create(ninox_id=1, lodge=north1, reference=good.reference)
    LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00002",
        lodge=north1,
        payment__stripe_session_id="cs_not_in_ninox",
        amount_requested=Decimal("300.00"),
        amount_raised=Decimal("250.00"),
    )
    portal_unpaid = LedgerApplicationFactory.create(
        approved=True,
        reference="MG-T-00003",
        lodge=south,
        amount_requested=Decimal("400.00"),
    )
    PaymentFactory.create(application=portal_unpaid, stripe_session_id="cs_portal_unpaid")
    short = LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00004",
        lodge=south,
        payment__stripe_session_id="cs_short",
        payment__amount=Decimal("450.00"),
    )
    NinoxGrantFactory.create(ninox_id=2, lodge=south, reference=short.reference)
    no_payment = LedgerApplicationFactory.create(
        paid=True,
        payment=None,
        reference="MG-T-00005",
        lodge=north1,
        amount_requested=Decimal("200.00"),
        amount_raised=Decimal("200.00"),
    )
    NinoxGrantFactory.create(
        ninox_id=3, lodge=north1, reference=no_payment.reference, amount=Decimal("200.00")
    )
    ninox_more = LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00006",
        lodge=south,
        payment__stripe_session_id="cs_ninox_more",
    )
    NinoxGrantFactory.create(
        ninox_id=4, lodge=south, reference=ninox_more.reference, amount=Decimal("600.00")
    )
    ninox_status = LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00007",
        lodge=north2,
        payment__stripe_session_id="cs_ninox_status",
        amount_requested=Decimal("150.00"),
        amount_raised=Decimal("150.00"),
    )
    NinoxGrantFactory.create(
        ninox_id=5,
        lodge=north2,
        reference=ninox_status.reference,
        amount=Decimal("150.00"),
        status="Approved",
    )
    PaymentFactory.create(orphan=True, stripe_session_id="cs_orphan", amount=Decimal("75.00"))
    # a reference the portal never issued
    NinoxGrantFactory.create(
        ninox_id=6, lodge=south, reference="MG-T-99999", amount=Decimal("333.00")
    )
    # entered by hand: not a mismatch
    NinoxGrantFactory.create(ninox_id=7, lodge=north2, amount=Decimal("300.00"))
    # by hand and cancelled
    NinoxGrantFactory.create(
        ninox_id=8, lodge=south, amount=Decimal("200.00"), status=NinoxGrant.CANCELLED
    )
    LedgerApplicationFactory.create(
        rejected=True,
        reference="MG-T-00008",
        lodge=south,
        amount_requested=Decimal("900.00"),
    )
    LedgerApplicationFactory.create(
        needs_review=True,
        reference="MG-T-00009",
        lodge=north1,
        amount_requested=Decimal("100.00"),
    )
    # Half the share refunded and released; Stripe has refunded more since (a refund the
    # portal has not released), and Ninox still holds the whole match.
    refunded = LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00010",
        lodge=north2,
        payment__stripe_session_id="cs_refunded",
        payment__amount_refunded=Decimal("150.00"),
        amount_requested=Decimal("200.00"),
        amount_raised=Decimal("200.00"),
        refunded_share=Decimal("100.00"),
        match_released=Decimal("100.00"),
    )
    NinoxGrantFactory.create(
        ninox_id=9, lodge=north2, reference=refunded.reference, amount=Decimal("200.00")
    )
    # Half the share refunded, released, and written to Ninox: every side agrees.
    east = LodgeFactory.create(ninox_id=9005, number=105, district="East")
    agreed = LedgerApplicationFactory.create(
        paid=True,
        reference="MG-T-00011",
        lodge=east,
        payment__stripe_session_id="cs_agreed",
        payment__amount_refunded=Decimal("60.00"),
        amount_requested=Decimal("120.00"),
        amount_raised=Decimal("120.00"),
        refunded_share=Decimal("60.00"),
        match_released=Decimal("60.00"),
    )
    NinoxGrantFactory.create(
        ninox_id=10, lodge=east, reference=agreed.reference, amount=Decimal("60.00")
    )
    expected = {
        (rec.REFUND_AGREES, "MG-T-00011"),
        (rec.REFUND_NOT_IN_NINOX, "MG-T-00010"),
        (rec.REFUND_NOT_IN_PORTAL, "MG-T-00010"),
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
    """Per lodge number, from the model rows: approved, paid, count of grants (not the code).

    A grant is a Ninox record, or a portal approval Ninox lacks (matched by reference);
    Ninox's amount where Ninox has it, at most the match a refund left; paid when either
    side says Paid.
    """
    figures: dict[int, dict[str, Decimal | int]] = {}

    def add(number: int, approved: Decimal, paid: bool) -> None:
        f = figures.setdefault(number, {"approved": Decimal(0), "paid": Decimal(0), "n": 0})
        f["approved"] += approved
        f["n"] += 1
        if paid:
            f["paid"] += approved

    refs = {a.reference: a for a in Application.objects.select_related("lodge")}
    in_ninox = set(NinoxGrant.objects.values_list("reference", flat=True))
    for a in refs.values():
        figures.setdefault(a.lodge_number, {"approved": Decimal(0), "paid": Decimal(0), "n": 0})
        if a.reference not in in_ninox and a.status in ("approved", "paid"):
            add(a.lodge_number, a.amount_requested - a.match_released, a.status == "paid")
    for g in NinoxGrant.objects.select_related("lodge"):
        if g.status == "Cancelled":
            continue
        application = refs.get(g.reference) if g.reference else None
        paid = g.status == "Paid" or (application is not None and application.status == "paid")
        amount = g.amount
        if application is not None and application.match_released:
            amount = min(amount, application.amount_requested - application.match_released)
        add(g.lodge.number if g.lodge else 0, amount, paid)
    return figures


def test_the_summary_csv_has_each_lodges_figures_from_ninox_and_the_portal(
    planted: Planted, finance: Any
) -> None:
    response = client_for(finance).get("/reports/", {"fy": str(planted.fy), "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {int(r["Lodge number"]): r for r in read_csv(response)}
    assert set(rows) == {101, 102, 103, 105}  # the inactive lodge with nothing is left out
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
    assert header[:10] == [
        "Lodge number",
        "Lodge",
        "District",
        "Cap",
        "Approved",
        "Paid",
        "Pending",
        "Remaining",
        "Over the cap by",
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
    assert totals[9] == sum(int(f["n"]) for f in figures.values())
    # The totals row adds up the rows above it.
    for index in (3, 4, 5, 6, 7, 8):
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
    assert row["Lodge share received"] == "450.00"  # what Stripe took
    assert row["Lodge share"] == "500.00"
    assert row["Paid"] == "500.00"  # the foundation's match
    assert row["Ninox record"] == "2"
    assert row["Purpose"] == "Winter appeal, with a comma"
    figures = independent_lodge_figures()
    approved = sum((Decimal(f["approved"]) for f in figures.values()), Decimal(0))
    paid = sum((Decimal(f["paid"]) for f in figures.values()), Decimal(0))
    assert sum(money(r["Paid"]) for r in csv_rows) == paid
    by_hand_row = next(r for r in csv_rows if r["Ninox record"] == "7")
    assert by_hand_row["Lodge share"] == by_hand_row["Requested"] == ""  # never $0.00
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
    found = {(r["Finding"], r["Reference"]) for r in rows}
    assert found == planted.expected_mismatches
    assert {kind for kind, _ in found} == set(rec.KINDS)
    differs = next(r for r in rows if r["Finding"] == rec.NINOX_AMOUNT_DIFFERS)
    assert differs["What differs"] == "Ninox says $600.00; the portal's match is $500.00."
    page = client_for(finance).get("/reports/reconciliation/").content.decode()
    assert "Stripe took $450.00; the lodge share is $500.00." in page
    refund = next(r for r in rows if r["Finding"] == rec.REFUND_NOT_IN_NINOX)
    assert refund["What differs"] == (
        "$100.00 of the share was refunded; Ninox should say Paid with $100.00, "
        "and says Paid with $200.00."
    )
    assert refund["Match that stays"] == "100.00"
    ledger = read_csv(client_for(finance).get("/reports/ledger/", {"format": "csv"}))
    partly = next(r for r in ledger if r["Reference"] == "MG-T-00010")
    assert partly["Approved"] == "100.00"  # of the $200.00 match, $100.00 was released
    ahead = next(r for r in rows if r["Finding"] == rec.REFUND_NOT_IN_PORTAL)
    assert ahead["Stripe refunded"] == "150.00"
    agreed = next(r for r in rows if r["Finding"] == rec.REFUND_AGREES)
    assert agreed["What differs"] == (
        "Nothing: Stripe refunded $60.00 of the share, the portal released $60.00 of the "
        "match, and Ninox says Paid with $60.00."
    )
    assert (agreed["Stripe refunded"], agreed["Match that stays"]) == ("60.00", "60.00")


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
    assert bad.status_code == 422
    assert "From: enter a date like 2026-05-01." in bad.content.decode()
    htmx = client.get(
        "/reports/ledger/",
        {"date_from": "nope"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert htmx.status_code == 422
    assert "<html" not in htmx.content.decode()
    assert client.get("/reports/ledger/", {"format": "pdf"}).status_code == 422


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
            LedgerApplicationFactory.create(
                paid=True,
                reference=f"MG-U-{step}{i:04d}",
                lodge=lodge,
                payment__stripe_session_id=f"cs_more_{step}_{i}",
                payment__amount=Decimal("9.00"),
                amount_requested=Decimal("10.00"),
            )
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


def test_the_reconciliation_s_totals_row_counts_its_findings_and_adds_up_no_money(
    planted: Planted, finance: Any
) -> None:
    # A payment can have several findings: a sum would count it more than once.
    response: Any = client_for(finance).get("/reports/reconciliation/", {"format": "xlsx"})
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    findings = len(planted.expected_mismatches)
    assert rows[0][0] == "Finding"
    assert {row[0] for row in rows[1:-1]} == {kind for kind, _ in planted.expected_mismatches}
    assert len(rows) == findings + 2  # the header, the findings, the totals row
    assert rows[-1] == (f"Total: {findings} findings",) + (None,) * 14
    assert sheet.cell(row=len(rows), column=1).font.bold
    assert sheet.auto_filter.ref == f"A1:O{findings + 1}"  # the totals row stays out of it
    page = client_for(finance).get("/reports/reconciliation/").content.decode()
    assert f'<tfoot><tr class="totals"><th scope="row">Total: {findings} findings</th>' in page
