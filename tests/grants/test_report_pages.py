"""The report pages' tables: they lead with identifying and money columns (the rest behind
each row's "More"), page through every row with the total count, write dates in the portal's
format, and stay within 12 queries however many rows there are."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Lodge
from grants.rules import current_fiscal_year
from grants.views.reports import PER_PAGE
from tests.conftest import client_for
from tests.factories import ApplicationFactory, LodgeFactory, NinoxGrantFactory

pytestmark = pytest.mark.django_db

DASH = "\u2013"  # the en dash the page puts between row numbers

# Queries per page, however many rows (issue 20: at most 12 for a list or report page). Two
# of each are the request's own: the session, and the user with the roles and second factor
# (portal.auth_backend). The session is saved once a minute, not on every page
# (portal.middleware.SessionIdleMiddleware). Each budget is what the page makes today.
QUERY_BUDGET = {
    "/lodges/": 5,  # rules, the count, the page of lodges with their budgets, districts
    "/reports/": 9,  # rules, headline (2), districts, the summary's figures (2) and lodges
    "/reports/ledger/": 8,  # rules, headline (2), districts, applications and Ninox grants
    "/reports/reconciliation/": 11,  # ... the payments, four mismatch queries, the first date
}
PAGES = tuple(QUERY_BUDGET)


def add_grants(lodge: Lodge, count: int, start: int) -> None:
    for i in range(count):
        NinoxGrantFactory.create(
            lodge=lodge,
            ninox_id=50_000 + start + i,
            reference="",
            amount=Decimal("10.00"),
            grant_date=current_fiscal_year().start,
        )


def header_texts(page: str) -> list[str]:
    thead = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th[^>]*>.*?</th>", thead)
    ]


def test_the_ledger_leads_with_the_reference_lodge_and_money_and_puts_the_rest_behind_more(
    finance: Any,
) -> None:
    lodge = LodgeFactory.create(district="Seventh")
    ApplicationFactory.create(lodge=lodge, paid=True, charity_name="Food Bank of the Plains")
    page = client_for(finance).get("/reports/ledger/").content.decode()
    assert header_texts(page) == [
        "Reference", "Lodge number", "Lodge", "Requested", "Approved", "Paid", "Lodge share",
        "Lodge share received", "Status", "More about the row",
    ]  # fmt: skip
    more = page.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "<dt>Charity</dt><dd>Food Bank of the Plains</dd>" in more
    assert "<dt>District</dt><dd>Seventh</dd>" in more
    assert "<dt>Stripe payment intent</dt>" in more


def test_a_long_report_pages_through_every_row_with_the_total_count(finance: Any) -> None:
    lodge = LodgeFactory.create()
    add_grants(lodge, PER_PAGE + 7, 0)
    client = client_for(finance)
    first = client.get("/reports/ledger/").content.decode()
    assert f"{PER_PAGE + 7} rows" in first
    assert f"Page 1 of 2 (rows 1{DASH}{PER_PAGE} of {PER_PAGE + 7})" in first
    assert "page=2" in first
    assert first.count("<details>") == PER_PAGE
    second = client.get("/reports/ledger/", {"page": "2"}).content.decode()
    assert f"Page 2 of 2 (rows {PER_PAGE + 1}{DASH}{PER_PAGE + 7} of {PER_PAGE + 7})" in second
    assert second.count("<details>") == 7
    # The totals row covers every row, not the page's.
    assert f"${(PER_PAGE + 7) * 10:,}.00" in second
    for junk in ("0", "999", "x", "-1"):
        assert client.get("/reports/ledger/", {"page": junk}).status_code == 200


def test_report_pages_write_dates_in_the_portals_format(finance: Any) -> None:
    lodge = LodgeFactory.create()
    NinoxGrantFactory.create(
        lodge=lodge, reference="", amount=Decimal("10.00"), grant_date=current_fiscal_year().start
    )
    page = client_for(finance).get("/reports/ledger/").content.decode()
    start: date = current_fiscal_year().start
    assert f"<dd>{start:%b} {start.day}, {start.year}</dd>" in page
    assert f"<dd>{start.isoformat()}</dd>" not in page


def test_the_list_and_report_pages_stay_within_their_query_budgets_as_rows_grow(
    finance: Any,
) -> None:
    client = client_for(finance)
    lodges = [LodgeFactory.create(district=d) for d in ("First", "Tenth", "Second")]
    for lodge in lodges:
        ApplicationFactory.create(lodge=lodge, paid=True)
        add_grants(lodge, 3, lodge.number * 100)
    for page in PAGES:
        client.get(page)  # warm per-process caches
    counts: dict[str, list[int]] = {}
    for step in (1, 2):
        for page in PAGES:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(page).status_code == 200, page
            counts.setdefault(page, []).append(len(captured))
        for lodge in [*lodges, *(LodgeFactory.create() for _ in range(20))]:
            ApplicationFactory.create(lodge=lodge, approved=True)
            add_grants(lodge, 4, 10_000 * step + lodge.number * 10)
    for page, (few, many) in counts.items():
        assert few == many, page
        assert many <= QUERY_BUDGET[page], (page, many)


def test_a_read_only_page_reads_the_rules_once_and_sees_the_same_rules() -> None:
    from grants.rules import read_rules_once, rules_for_fiscal_year, rules_in_force

    fy = current_fiscal_year().key
    expected = (rules_in_force().annual_cap, rules_for_fiscal_year(fy).annual_cap)

    @read_rules_once
    def page() -> tuple[Decimal, Decimal]:
        rules_in_force()
        return rules_in_force().annual_cap, rules_for_fiscal_year(fy).annual_cap

    with CaptureQueriesContext(connection) as captured:
        assert page() == expected
    assert len(captured) == 1
