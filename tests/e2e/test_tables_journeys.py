"""Issue 20, points 5 and 6 in the browser, at 375 px and 1280 px: finance reads a ledger
whose money columns are in view, opens a row's other columns and pages on; a reviewer sorts
the lodges by district (by number) and sees the direction; a lodge with a mistyped status or
payment link is told what to do. Axe checks each state."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.axe import AxeReport
from tests.e2e.conftest import Portal, sign_in
from tests.e2e.steps import expect

SIZES = [(375, 812), (1280, 800)]
DASH = "\u2013"
ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
            "Ninth", "Tenth", "Eleventh", "Twelfth"]  # fmt: skip


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_finance_reads_the_ledger_with_its_money_in_view_and_pages_through_it(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"tables-ledger-{width}")
    sign_in(page, "finance")
    page.goto("/reports/ledger/")
    table = page.locator("#result_list")
    expect(table.locator("caption")).to_contain_text(re.compile(r"\d+ rows"))
    shot(page, "ledger", full_page=False)
    report.check(page, "ledger")
    paid = table.get_by_role("columnheader", name="Paid", exact=True)
    if width >= 1280:  # the money columns fit on a laptop's screen
        box = paid.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width, box
    table.locator("details summary").first.click()
    expect(table.locator("details[open] dt", has_text="Charity")).to_be_visible()
    shot(page, "ledger-row-more", full_page=False)
    report.check(page, "ledger: a row's other columns")
    nav = page.get_by_role("navigation", name="Pages of the report")
    expect(nav).to_contain_text(re.compile(rf"Page 1 of \d+ \(rows 1{DASH}50 of \d+\)"))
    nav.get_by_role("link", name="Next").click()
    expect(page.get_by_role("navigation", name="Pages of the report")).to_contain_text(
        re.compile(rf"Page 2 of \d+ \(rows 51{DASH}100 of \d+\)")
    )
    assert "page=2" in page.url
    shot(page, "ledger-page-2", full_page=False)
    report.check(page, "ledger: page 2")
    page.goto("/reports/")
    shot(page, "summary", full_page=False)
    report.check(page, "summary")
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_a_reviewer_sorts_the_lodges_by_district_number_and_sees_the_direction(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"tables-lodges-{width}")
    sign_in(page, "reviewer")
    page.goto("/lodges/?sort=district")
    header = page.locator('#result_list th[aria-sort="ascending"]')
    expect(header).to_have_text(re.compile(r"District\s*▲"))
    districts = page.locator("#result_list tbody tr td:nth-child(3)").all_inner_texts()
    numbers = [ORDINALS.index(d.split()[0]) for d in districts if d.split()[0] in ORDINALS]
    assert numbers == sorted(numbers), districts
    assert districts[0].startswith("First"), districts[:5]
    shot(page, "lodges-by-district", full_page=False)
    report.check(page, "lodges sorted by district")
    expect(page.locator("#site-name")).to_contain_text("·")
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_a_lodge_with_a_mistyped_link_is_told_what_to_do(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"tables-dead-ends-{width}")
    for kind in ("status", "pay"):
        response = page.goto(f"/{kind}/not-a-real-token/")
        assert response is not None
        assert response.status == 404
        expect(page.get_by_role("heading", name=re.compile("link does not work"))).to_be_visible()
        expect(page.locator("#content").get_by_role("link", name=re.compile(r"@"))).to_be_visible()
        assert "/login/" not in page.url
        shot(page, f"{kind}-link-unknown")
        report.check(page, f"{kind}: unknown link")
    report.assert_clean()
