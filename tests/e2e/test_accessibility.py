"""Issue 12: every page passes axe-core at WCAG 2.1 AA, works on a phone, and by keyboard alone."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.axe import DESKTOP, PHONE, AxeReport, no_horizontal_scroll
from tests.e2e.conftest import Portal, sign_in
from tests.e2e.steps import apply_for, apply_for_review, expect, fill_application, poll, press_pay


def start_checkout(page: Any) -> None:
    """On a /pay/ page: press Pay, which starts the (dev stand-in) checkout."""
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("button", name="Simulate a failed payment")).to_be_visible()


def pay_and_wait(page: Any) -> None:
    """On a /pay/ page: start the checkout if need be, pay in it, then wait until it says paid."""
    if not page.get_by_role("button", name="Simulate a failed payment").count():
        start_checkout(page)
    press_pay(page)

    def paid() -> bool:
        page.reload()
        return bool(page.get_by_role("heading", name="Paid: thank you", level=1).count())

    poll(paid, "the pay page saying paid")


def test_every_public_page_passes_axe_in_every_state(portal: Portal, page: Any, shot: Any) -> None:
    report = AxeReport("public")
    page.goto("/apply/")
    report.check(page, "apply: empty form")
    page.get_by_role("button", name="Send the application").click()
    expect(page.locator("#error-summary")).to_be_focused()
    report.check(page, "apply: form with errors")
    shot(page, "apply-errors")

    lodge = portal.take_lodge("none")
    apply_for(page, lodge, raised=Decimal("400.00"), requested=Decimal("400.00"))
    report.check(page, "status: approved")
    page.get_by_role("link", name="Pay $400.00 now").click()
    report.check(page, "pay: amount and Pay button")
    shot(page, "pay")
    start_checkout(page)
    report.check(page, "pay: checkout")
    shot(page, "pay-checkout")
    pay_and_wait(page)
    report.check(page, "pay: paid")
    page.get_by_role("link", name="See the application's page").click()
    report.check(page, "status: paid")

    near = portal.take_lodge("near")
    over = near.remaining + Decimal("50.00")
    apply_for(page, near, raised=over, requested=over)
    expect(page.get_by_role("heading", name="Not approved")).to_be_visible()
    report.check(page, "status: rejected")

    inactive = portal.take_lodge("inactive")
    apply_for(page, inactive, raised=Decimal("100.00"), requested=Decimal("100.00"))
    expect(page.get_by_role("heading", name=re.compile("review"))).to_be_visible()
    report.check(page, "status: needs review")
    report.assert_clean()


def test_every_staff_page_passes_axe(portal: Portal, page: Any, new_page: Any, shot: Any) -> None:
    report = AxeReport("staff")
    secretary = new_page()
    lodge = portal.take_lodge("none")
    reference = apply_for(secretary, lodge, raised=Decimal("250.00"), requested=Decimal("250.00"))
    waiting = apply_for_review(secretary, portal)  # only a waiting row offers Decide

    page.goto("/login/")
    report.check(page, "login")
    page.get_by_role("button", name="Sign in").click()
    report.check(page, "login: with errors")
    sign_in(page, "admin")
    staff_pages = {
        "dashboard": "/",
        "queue": "/queue/",
        "queue: filtered": f"/queue/?status=approved&q={lodge.number}",
        "application": f"/applications/{reference}/",
        "lodges": "/lodges/",
        "lodge": f"/lodges/{lodge.number}/",
        "bulk decision": f"/queue/bulk/?outcome=approved&selected={reference}",
        "cancel an approval": f"/applications/{reference}/cancel/",
        "health": "/health/",
        "reports: FY summary": "/reports/",
        "reports: grant ledger": "/reports/ledger/",
        "reports: reconciliation": "/reports/reconciliation/",
        "manage: index": "/manage/",
        "manage: users": "/manage/users/",
        "manage: invite": "/manage/users/invite/",
        "manage: a user": "/manage/users/reviewer/",
        "manage: audit log": "/manage/audit/",
        "manage: grant rules": "/manage/rules/",
        "manage: API tokens": "/manage/tokens/",
        "password change": "/account/password/",
        "two-factor setup": "/account/two-factor/",
    }
    for label, path in staff_pages.items():
        response = page.goto(path)
        assert response is not None
        assert response.ok, f"{label}: {path} answered {response.status}"
        report.check(page, label)
    # Only a row waiting for a decision offers Decide.
    page.goto(f"/queue/?status=&q={waiting}")
    page.get_by_role("button", name="Decide").first.click()
    expect(page.locator(f"#row-{waiting}").get_by_role("button", name="Reject")).to_be_visible()
    report.check(page, "queue: a row expanded to decide")
    page.goto("/manage/rules/")
    page.get_by_label("Annual cap").fill("3900.00")
    page.get_by_label("Why").fill("Checking the preview's accessibility")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.get_by_role("heading", name="Check the change before it is saved")).to_be_visible()
    report.check(page, "manage: grant rules preview")
    page.goto("/manage/users/reviewer/")
    page.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(page.get_by_role("heading", name=re.compile("^Deactivate"))).to_be_visible()
    report.check(page, "manage: confirm deactivating")
    page.goto("/manage/audit/")
    page.locator("details.audit-raw summary").first.click()
    report.check(page, "manage: audit log, details open")
    report.assert_clean()


def test_the_refund_and_cancel_forms_pass_axe_with_their_errors_and_confirmation(
    portal: Portal, page: Any, new_page: Any
) -> None:
    report = AxeReport("refunds")
    secretary = new_page()
    paid = apply_for(
        secretary, portal.take_lodge("none"), raised=Decimal("300.00"), requested=Decimal("300.00")
    )
    secretary.get_by_role("link", name="Pay $300.00 now").click()
    pay_and_wait(secretary)
    approved = apply_for(
        secretary, portal.take_lodge("none"), raised=Decimal("100.00"), requested=Decimal("100.00")
    )
    sign_in(page, "admin")

    page.goto(f"/applications/{paid}/refund/")
    report.check(page, "refund: the form")
    page.get_by_label("Amount of the share to refund").fill("999")
    page.get_by_role("button", name="Review the refund").click()
    expect(page.get_by_text("Amount must be at most $300.00")).to_be_visible()
    report.check(page, "refund: with errors")
    page.get_by_label("Amount of the share to refund").fill("50")
    page.get_by_label("Reason").fill("Fewer guests")
    page.get_by_role("button", name="Review the refund").click()
    report.check(page, "refund: the confirmation")
    page.goto(f"/applications/{approved}/cancel/")
    page.get_by_role("button", name="Cancel the approval and email the lodge").click()
    expect(page.get_by_text("Message to the lodge: say why")).to_be_visible()
    report.check(page, "cancel: with errors")
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_apply_flow_and_the_queue_fit_the_screen(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    overflowing: list[str] = []

    def look(step: str) -> None:
        shot(page, step)
        if not no_horizontal_scroll(page):
            overflowing.append(step)

    page.goto("/apply/")
    look("apply-empty")
    page.get_by_role("button", name="Send the application").click()
    look("apply-errors")
    lodge = portal.take_lodge("none")
    page.goto("/apply/")
    fill_application(
        page, lodge, raised=Decimal("300.00"), requested=Decimal("300.00"), charity="Library"
    )
    look("apply-filled")
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(r"/status/"))
    look("status-approved")
    page.get_by_role("link", name=re.compile(r"^Pay .* now$")).click()
    look("pay")
    pay_and_wait(page)
    look("paid")
    assert not overflowing, f"horizontal scrolling at {width} px on: {overflowing}"

    # Only a row waiting for a decision offers Decide: make one, whatever ran before.
    waiting = apply_for_review(page, portal)
    staff = new_page(width, height)
    sign_in(staff, "reviewer")
    staff.goto("/queue/")
    shot(staff, "queue")
    staff.goto("/queue/?status=needs_review")
    shot(staff, "queue-needs-review")
    staff.goto(f"/queue/?status=&q={waiting}")
    staff.locator(f"#row-{waiting}").get_by_role("button", name="Decide").click()
    expect(staff.locator(f"#row-{waiting}").get_by_role("button", name="Reject")).to_be_visible()
    shot(staff, "queue-row-expanded")


def focused_id(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def tab_to(page: Any, element_id: str, *, most: int = 25) -> None:
    """Press Tab until the element has focus; checks that focus is visibly drawn there."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"#{element_id} has focus but no visible outline"
            return
    raise AssertionError(f"Tab never reached #{element_id} (stuck at #{focused_id(page)})")


def test_a_secretary_applies_with_the_keyboard_alone(portal: Portal, page: Any, shot: Any) -> None:
    lodge = portal.take_lodge("none")
    page.goto("/apply/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"

    # Sending the empty form moves focus to the error summary; its first link leads to the field.
    tab_to(page, "apply-submit")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#error-summary")).to_be_focused()
    shot(page, "errors-focused")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#id_lodge_number")).to_be_focused()

    page.keyboard.type(str(lodge.number))
    expect(page.locator("#lodge-name")).to_contain_text(lodge.name)
    for field, text in [
        ("id_contact_name", "Kim Keyboard"),
        ("id_contact_email", "kim@example.org"),
        ("id_charity_name", "Reading Room"),
        ("id_purpose", "Books for the children's corner."),
        ("id_amount_raised", "200.00"),
        ("id_amount_requested", "200.00"),
    ]:
        tab_to(page, field)
        page.keyboard.press("Control+A")
        page.keyboard.type(text)
    tab_to(page, "id_event_date")
    page.keyboard.type(time.strftime("%m%d%Y"))
    shot(page, "filled-by-keyboard")
    tab_to(page, "apply-submit")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/status/"))
    expect(page.get_by_role("heading", name=re.compile("Approved"))).to_be_visible()
    shot(page, "decision")
    pay_link = page.get_by_role("link", name="Pay $200.00 now")
    for _ in range(30):
        page.keyboard.press("Tab")
        if pay_link.evaluate("link => link === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the payment link")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/pay/"))
    expect(page.get_by_role("heading", name="Pay your lodge's share", level=1)).to_be_visible()
