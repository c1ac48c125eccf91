"""One set of figures: computed here from the demo's rows by hand, and every page and export
(the dashboard, the reports' headline, the FY summary and the ledger, CSV and XLSX) agrees
to the cent."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from grants.models import Application, Lodge, NinoxGrant, Status
from grants.money import format_money
from grants.rules import current_fiscal_year, rules_for_fiscal_year
from grants.selectors.budgets import lodge_budget
from grants.selectors.figures import fiscal_year_figures
from tests.conftest import client_for
from tests.factories import ApplicationFactory, PaymentFactory

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def independent_figures(fy: int, *, district: str = "", lodge: Lodge | None = None) -> dict:
    """approved, paid and lodge shares received in ``fy``, from the model rows (not the code).

    A grant is a Ninox record not cancelled, or a portal approval Ninox lacks (by reference);
    it is paid when Ninox says Paid or the portal took the lodge's payment. A refund the
    portal knows of releases part of the match, and takes back part of the share received.
    """

    def wanted(lodge_obj: Lodge | None) -> bool:
        if lodge is not None:
            return lodge_obj is not None and lodge_obj.id == lodge.id
        return not district or (lodge_obj is not None and lodge_obj.district == district)

    applications = {
        a.reference: a for a in Application.objects.select_related("lodge").filter(fiscal_year=fy)
    }
    ninox_refs = set(NinoxGrant.objects.values_list("reference", flat=True))
    approved = paid = received = ZERO
    for grant in NinoxGrant.objects.select_related("lodge").filter(fiscal_year=fy):
        if grant.status == "Cancelled" or not wanted(grant.lodge):
            continue
        application = applications.get(grant.reference) if grant.reference else None
        amount = grant.amount
        if application is not None and application.match_released > 0:
            amount = min(amount, application.amount_requested - application.match_released)
        approved += amount
        if grant.status == "Paid" or (application is not None and application.status == "paid"):
            paid += amount
    for application in applications.values():
        if not wanted(application.lodge):
            continue
        for payment in application.payments.filter(status="paid"):
            received += payment.amount
        received -= application.refunded_share
        if application.reference in ninox_refs or application.status not in ("approved", "paid"):
            continue
        kept = application.amount_requested - application.match_released
        approved += kept
        if application.status == "paid":
            paid += kept
    return {"approved": approved, "paid": paid, "received": received}


@pytest.fixture
def programme(mirrored: Any) -> int:
    """The demo's grants, and portal applications in every state that changes a figure."""
    fy = current_fiscal_year().key
    lodges = list(Lodge.objects.filter(active=True).order_by("number")[:4])
    grants = NinoxGrant.objects.filter(fiscal_year=fy).exclude(reference="").order_by("ninox_id")
    # Written back to Ninox, which still says Approved: paid once, at Ninox's amount.
    written = grants.filter(status="Approved").first()
    assert written is not None
    assert written.lodge is not None
    ApplicationFactory.create(
        paid=True,
        reference=written.reference,
        lodge=written.lodge,
        amount_requested=written.amount,
        payment__amount=Decimal("123.45"),
    )
    # Paid in the portal, not yet in Ninox; approved and waiting; rejected; a paid Ninox grant.
    ApplicationFactory.create(paid=True, lodge=lodges[0], amount_requested=Decimal("310.55"))
    ApplicationFactory.create(approved=True, lodge=lodges[1], amount_requested=Decimal("99.99"))
    ApplicationFactory.create(rejected=True, lodge=lodges[2], amount_requested=Decimal("900.00"))
    paid_in_ninox = grants.filter(status="Paid").first()
    assert paid_in_ninox is not None
    ApplicationFactory.create(
        paid=True,
        payment=None,
        reference=paid_in_ninox.reference,
        lodge=paid_in_ninox.lodge,
        amount_requested=paid_in_ninox.amount,
    )
    # Refunded: a quarter of the share and of the match; all of it (the match is back).
    ApplicationFactory.create(
        paid=True,
        lodge=lodges[3],
        amount_raised=Decimal("400.00"),
        amount_requested=Decimal("400.00"),
        payment__amount=Decimal("400.00"),
        refunded_share=Decimal("100.00"),
        match_released=Decimal("100.00"),
    )
    ApplicationFactory.create(
        paid=True,
        status=Status.REFUNDED,
        lodge=lodges[3],
        amount_raised=Decimal("250.00"),
        amount_requested=Decimal("200.00"),
        payment__amount=Decimal("250.00"),
        refunded_share=Decimal("250.00"),
        match_released=Decimal("200.00"),
    )
    PaymentFactory.create(orphan=True, amount=Decimal("75.00"))  # no application: no lodge's
    return fy


def money_cells(text: str) -> Decimal:
    return Decimal(text) if text else ZERO


def read_csv(response: Any) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(raw)))


def read_xlsx(response: Any) -> Any:
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active


def xlsx_totals(sheet: Any) -> dict[str, Any]:
    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    totals = rows[-1]
    assert totals[0].value == "Total"
    assert totals[0].font.bold
    return dict(zip(header, totals, strict=True))


def as_cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


@pytest.mark.django_db
def test_every_page_and_export_agrees_with_the_figures_computed_from_the_rows(
    programme: int, finance: Any
) -> None:
    fy = current_fiscal_year()
    expected = independent_figures(programme)
    assert expected["paid"] > 0
    assert expected["received"] > 0
    client = client_for(finance)
    query = {"fy": str(fy.key)}
    headline = f"Paid in {fy.label}: {format_money(expected['paid'])}"

    dashboard = client.get("/", query).content.decode()
    assert headline in dashboard
    assert f"Matches approved: <strong>{format_money(expected['approved'])}</strong>" in dashboard

    summary_page = client.get("/reports/", query).content.decode()
    assert headline in summary_page
    footer = summary_page[summary_page.index("<tfoot>") : summary_page.index("</tfoot>")]
    assert format_money(expected["approved"]) in footer
    assert format_money(expected["paid"]) in footer
    by_district = summary_page[summary_page.index("The figures by district as a table") :]
    by_district = by_district[by_district.index("<tbody>") : by_district.index("</tbody>")]
    cells = re.findall(r'<td class="num">\$([\d,]+\.\d\d)</td>', by_district)
    district_money = [Decimal(c.replace(",", "")) for c in cells]
    assert sum(district_money[0::2]) == expected["approved"]  # each row: approved, paid
    assert sum(district_money[1::2]) == expected["paid"]
    ledger_page = client.get("/reports/ledger/", query).content.decode()
    assert headline in ledger_page
    footer = ledger_page[ledger_page.index("<tfoot>") : ledger_page.index("</tfoot>")]
    assert format_money(expected["approved"]) in footer
    assert format_money(expected["paid"]) in footer
    assert format_money(expected["received"]) in footer

    summary = read_csv(client.get("/reports/", {**query, "format": "csv"}))
    assert sum(money_cells(r["Approved"]) for r in summary) == expected["approved"]
    assert sum(money_cells(r["Paid"]) for r in summary) == expected["paid"]
    assert sum(money_cells(r["Lodge share received"]) for r in summary) == expected["received"]

    ledger = read_csv(client.get("/reports/ledger/", {**query, "format": "csv"}))
    assert sum(money_cells(r["Approved"]) for r in ledger) == expected["approved"]
    assert sum(money_cells(r["Paid"]) for r in ledger) == expected["paid"]
    assert sum(money_cells(r["Lodge share received"]) for r in ledger) == expected["received"]

    for path in ("/reports/", "/reports/ledger/"):
        sheet = read_xlsx(client.get(path, {**query, "format": "xlsx"}))
        totals = xlsx_totals(sheet)
        assert as_cents(totals["Approved"].value) == expected["approved"], path
        assert as_cents(totals["Paid"].value) == expected["paid"], path
        assert as_cents(totals["Lodge share received"].value) == expected["received"], path
        assert totals["Paid"].font.bold
        # The filter covers the header and the rows, not the totals row.
        assert (
            sheet.auto_filter.ref
            == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row - 1}"
        )

    figures = fiscal_year_figures(fy.key, rules_for_fiscal_year(fy.key).annual_cap)
    assert (figures.approved, figures.paid, figures.share_received) == (
        expected["approved"],
        expected["paid"],
        expected["received"],
    )


@pytest.mark.django_db
def test_a_districts_and_a_lodges_figures_agree_and_a_lodges_remaining_is_its_budget(
    programme: int,
) -> None:
    cap = rules_for_fiscal_year(programme).annual_cap
    district = Lodge.objects.exclude(district="").order_by("district").first()
    assert district is not None
    expected = independent_figures(programme, district=district.district)
    figures = fiscal_year_figures(programme, cap, district=district.district)
    assert (figures.approved, figures.paid) == (expected["approved"], expected["paid"])
    for lodge in Lodge.objects.filter(applications__fiscal_year=programme).distinct():
        expected = independent_figures(programme, lodge=lodge)
        figures = fiscal_year_figures(programme, cap, lodge_id=lodge.id)
        assert (figures.approved, figures.paid, figures.share_received) == (
            expected["approved"],
            expected["paid"],
            expected["received"],
        ), lodge.number
        assert figures.remaining == lodge_budget(lodge.id, programme, cap).remaining


@pytest.mark.django_db
def test_a_grant_entered_in_ninox_shows_a_dash_never_zero_for_what_it_does_not_have(
    programme: int, finance: Any
) -> None:
    by_hand = NinoxGrant.objects.filter(fiscal_year=programme, reference="").first()
    assert by_hand is not None
    client = client_for(finance)
    rows = read_csv(client.get("/reports/ledger/", {"fy": str(programme), "format": "csv"}))
    row = next(r for r in rows if r["Ninox record"] == str(by_hand.ninox_id))
    assert row["Requested"] == row["Lodge share"] == row["Lodge share received"] == ""
    assert row["Write-back"] == "entered in Ninox"
    day = by_hand.grant_date.isoformat()  # type: ignore[union-attr]
    page = client.get(
        "/reports/ledger/", {"fy": str(programme), "date_from": day, "date_to": day}
    ).content.decode()
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    # The Ninox record and the write-back are behind the row's "More"; the money is in view.
    record = f"<dt>Ninox record</dt><dd>{by_hand.ninox_id}</dd>"
    shown = next(tr for tr in body.split("</tr>") if record in tr)
    assert "<dt>Write-back</dt><dd>entered in Ninox</dd>" in shown
    in_view = shown[: shown.index('<td class="row-more">')]
    assert in_view.count("—") == 3  # requested, lodge share, lodge share received


@pytest.mark.django_db
def test_the_summary_shows_a_lodge_share_received_only_where_the_portal_took_a_payment(
    programme: int, finance: Any
) -> None:
    took = Lodge.objects.filter(
        applications__fiscal_year=programme, applications__payments__status="paid"
    ).first()
    by_hand_only = (
        Lodge.objects.filter(ninox_grants__fiscal_year=programme)
        .exclude(applications__fiscal_year=programme)
        .first()
    )
    assert took is not None
    assert by_hand_only is not None
    client = client_for(finance)
    rows = {
        r["Lodge number"]: r
        for r in read_csv(client.get("/reports/", {"fy": str(programme), "format": "csv"}))
    }
    received = independent_figures(programme, lodge=took)["received"]
    assert money_cells(rows[str(took.number)]["Lodge share received"]) == received
    assert rows[str(by_hand_only.number)]["Lodge share received"] == ""  # not "0.00"
    assert rows[str(by_hand_only.number)]["Paid"] != ""
    page = client.get(
        "/reports/", {"fy": str(programme), "district": by_hand_only.district}
    ).content.decode()
    table = page[page.index('id="result_list"') :]
    shown = next(
        tr
        for tr in table[table.index("<tbody>") : table.index("</tbody>")].split("</tr>")
        if f'<th scope="row">{by_hand_only.number}</th>' in tr
    )
    cells = shown[: shown.index('<td class="row-more">')]
    assert cells.rstrip().endswith('<td class="num">—</td>'), cells


@pytest.mark.django_db
def test_a_lodge_exactly_at_its_cap_is_never_shown_over_it_by_a_sums_rounding(
    finance: Any,
) -> None:
    """Three grants that make exactly $4,000.00, which a float sum makes 4000.0000000000005."""
    from tests.factories import LodgeFactory, NinoxGrantFactory

    fy = current_fiscal_year().key
    cap = rules_for_fiscal_year(fy).annual_cap
    lodge = LodgeFactory.create(name="Exact Lodge")
    parts = [Decimal("1955.13"), Decimal("1612.26")]
    for amount in [*parts, cap - sum(parts)]:
        NinoxGrantFactory.create(lodge=lodge, amount=amount)
    client = client_for(finance)
    pages: tuple[tuple[str, dict[str, str]], ...] = (
        ("/", {}),
        ("/lodges/", {"q": "Exact Lodge"}),
        (f"/lodges/{lodge.number}/", {}),
    )
    for path, query in pages:
        html = client.get(path, query).content.decode()
        assert "Exact Lodge" in html, path
        assert "over the cap" not in html, path
        assert "-$0.00" not in html, path
