"""Issue 19, points 1-3 in the browser, at 375 px and 1280 px: a secretary applies with what
the lodge has left in view and is offered what remains after asking too much; a reviewer's
message reaches the lodge and the internal note does not; finance sees one "paid" figure on
the dashboard and the reports. Axe checks each new state."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.axe import AxeReport, no_horizontal_scroll
from tests.e2e.conftest import Portal, sign_in
from tests.e2e.steps import apply_for, expect, money

SIZES = [(375, 812), (1280, 800)]
MESSAGE = "Your lodge is not in good standing this year, so it is not eligible."
NOTE = "Spoke to the district secretary on the phone"


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_a_secretary_applies_with_what_is_left_in_view_and_is_offered_what_remains(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"figures-apply-{width}")
    near = portal.take_lodge("near")
    page.goto("/apply/")
    page.get_by_label("Lodge number").fill(str(near.number))
    lookup = page.locator("#lodge-name")
    expect(lookup).to_contain_text(near.name)
    expect(lookup).to_contain_text(
        re.compile(rf"{re.escape(money(near.remaining))} left in FY \d{{4}}-\d{{2}} \(until .+\)")
    )
    shot(page, "lookup-with-what-is-left")
    report.check(page, "apply: the lodge's figure in view")

    asked = near.remaining + Decimal("100.00")
    apply_for(page, near, raised=asked, requested=asked, charity="Hospice")
    expect(page.get_by_role("heading", name="Not approved")).to_be_visible()
    offer = page.get_by_role("link", name=f"Apply for {money(near.remaining)} instead")
    expect(offer).to_be_visible()
    assert no_horizontal_scroll(page), f"the rejection scrolls sideways at {width} px"
    shot(page, "rejected-with-the-offer")
    report.check(page, "status: rejected with the offer")

    offer.click()
    page.wait_for_url(re.compile(r"/apply/\?again="))
    expect(page.get_by_label("Amount requested")).to_have_value(f"{near.remaining:.2f}")
    expect(page.get_by_label("Charity or cause")).to_have_value("Hospice")
    expect(page.locator("#lodge-name")).to_contain_text(f"{money(near.remaining)} left in FY")
    shot(page, "prefilled-for-what-remains")
    report.check(page, "apply: prefilled for what remains")
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(r"/status/"))
    expect(page.get_by_role("heading", name=re.compile("Approved"))).to_be_visible()
    shot(page, "approved-for-what-remains")
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_the_lodge_reads_the_reviewers_message_and_never_the_internal_note(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    secretary = new_page(width, height)
    report = AxeReport(f"figures-message-{width}")
    inactive = portal.take_lodge("inactive")
    reference = apply_for(
        secretary, inactive, raised=Decimal("200.00"), requested=Decimal("200.00")
    )
    status_url = secretary.url
    expect(secretary.get_by_role("heading", name=re.compile("review"))).to_be_visible()

    reviewer = new_page(width, height)
    sign_in(reviewer, "reviewer")
    reviewer.goto(f"/applications/{reference}/")
    expect(reviewer.get_by_text("the lodge will read this")).to_be_visible()
    reviewer.get_by_label(re.compile("^Message to the lodge")).fill(MESSAGE)
    reviewer.get_by_label(re.compile("^Internal note")).fill(NOTE)
    reviewer.get_by_label("If rejected, the lodge may").select_option("no")
    shot(reviewer, "decision-form-filled")
    report.check(reviewer, "application: the decision form")
    reviewer.get_by_role("button", name="Reject").click()
    expect(reviewer.locator("#actions")).to_contain_text("Rejected")
    reviewer.reload()
    expect(reviewer.get_by_text(f"Internal note: {NOTE}")).to_be_visible()
    shot(reviewer, "decided-with-the-note-for-staff")

    secretary.goto(status_url)
    expect(secretary.get_by_role("heading", name="Not approved")).to_be_visible()
    decision = secretary.locator(".decision")
    expect(decision).to_contain_text(f"Message from the grants team: {MESSAGE}")
    expect(decision).not_to_contain_text(NOTE)
    expect(decision).not_to_contain_text("may apply again")
    expect(decision).to_contain_text("please do not apply again")
    assert no_horizontal_scroll(secretary), f"the status page scrolls sideways at {width} px"
    shot(secretary, "lodge-reads-the-message-only")
    report.check(secretary, "status: a reviewer's message")
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_finance_sees_the_same_paid_figure_on_the_dashboard_and_the_reports(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"figures-finance-{width}")
    sign_in(page, "finance")
    headline = re.compile(r"Paid in FY \d{4}-\d{2}: \$[\d,]+\.\d{2}")
    page.goto("/")
    on_dashboard = page.locator(".dashboard-headline strong").inner_text()
    assert headline.fullmatch(on_dashboard), on_dashboard
    shot(page, "dashboard-headline")
    report.check(page, "dashboard with the headline")
    page.goto("/reports/")
    on_reports = page.locator(".report-headline strong").inner_text()
    assert on_reports == on_dashboard
    expect(page.locator("#result_list tfoot")).to_contain_text("Total")
    if width >= 1280:  # every column, "Lodge share received" the last, in view without scrolling
        table_width, box_width = page.locator("#result_list").evaluate(
            "table => [table.scrollWidth, table.parentElement.clientWidth]"
        )
        assert table_width <= box_width, f"the summary is {table_width} px in {box_width} px"
    shot(page, "reports-headline-and-totals")
    report.check(page, "reports with the headline and totals")
    page.goto("/reports/ledger/")
    assert page.locator(".report-headline strong").inner_text() == on_dashboard
    shot(page, "ledger-headline")
    report.assert_clean()
