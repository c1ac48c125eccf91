"""The portal's story as its users live it, in a real browser against a real server and worker."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tests.e2e.axe import no_horizontal_scroll
from tests.e2e.conftest import Portal, sign_in
from tests.e2e.steps import apply_for, expect, fill_application, money, poll, press_pay


def test_a_secretary_is_approved_within_budget_and_refused_near_the_cap_with_the_arithmetic(
    portal: Portal, page: Any, shot: Any
) -> None:
    lodge = portal.take_lodge("none")
    page.goto("/apply/")
    expect(page.get_by_role("heading", name="Apply for a matching grant")).to_be_visible()
    shot(page, "empty-form")
    fill_application(
        page, lodge, raised=Decimal("500.00"), requested=Decimal("500.00"), charity="Food Bank"
    )
    shot(page, "filled-with-lodge-name")
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(r"/status/"))
    expect(page.get_by_role("heading", name=re.compile("Approved"))).to_be_visible()
    expect(page.locator(".decision")).to_contain_text(
        f"Lodge {lodge.number} has used $0.00 of its $4,000.00"
    )
    expect(page.get_by_role("link", name="Pay $500.00 now")).to_be_visible()
    shot(page, "approved-with-payment-step")

    near = portal.take_lodge("near")
    requested = near.remaining + Decimal("100.00")
    apply_for(page, near, raised=requested, requested=requested, charity="Hospice")
    expect(page.get_by_role("heading", name="Not approved")).to_be_visible()
    explanation = page.locator(".decision")
    expect(explanation).to_contain_text(
        re.compile(
            rf"Lodge {near.number} has used {re.escape(money(near.fy_total))} of its \$4,000\.00 "
            rf"for FY \d{{4}}-\d{{2}} \(.+\); {re.escape(money(near.remaining))} remains and "
            rf"{re.escape(money(requested))} was requested\."
        )
    )
    expect(page.get_by_role("link", name=re.compile("^Pay"))).to_have_count(0)
    expect(page.locator(".decision")).to_contain_text("What next")
    shot(page, "rejected-with-arithmetic")


def test_a_secretary_pays_and_the_grant_reaches_ninox_and_the_emails_go_out(
    portal: Portal, page: Any, new_page: Any, shot: Any
) -> None:
    lodge = portal.take_lodge("none")
    reference = apply_for(
        page, lodge, raised=Decimal("750.00"), requested=Decimal("600.00"), charity="Animal Shelter"
    )
    shot(page, "approved")
    page.get_by_role("link", name="Pay $750.00 now").click()
    page.wait_for_url(re.compile(r"/pay/"))
    expect(page.get_by_role("heading", name="Pay your lodge's share", level=1)).to_be_visible()
    shot(page, "pay-page")
    page.get_by_role("button", name="Pay", exact=True).click()  # only now a checkout starts
    expect(page.get_by_role("button", name="Simulate a failed payment")).to_be_visible()
    shot(page, "dev-checkout")
    press_pay(page)
    shot(page, "after-pay")
    status_link = page.get_by_role("link", name="See the application's page")

    def shows_paid() -> bool:
        page.reload()
        return bool(page.get_by_role("heading", name="Paid: thank you", level=1).count())

    poll(shows_paid, "the pay page saying paid")
    expect(page.locator(".decision")).to_contain_text("We received")
    shot(page, "paid")
    status_link.click()
    expect(page.get_by_role("heading", name="Paid: thank you")).to_be_visible()
    receipt = page.locator(".receipt")
    expect(page.get_by_role("heading", name=f"Receipt {reference}")).to_be_visible()
    for row in (
        f"Receipt number {reference}",
        "Lodge's share paid $750.00",
        "Foundation's match $600.00",
        "Gift to Animal Shelter $1,350.00",
    ):
        expect(receipt.get_by_role("row", name=row, exact=True)).to_be_visible()
    expect(
        receipt.get_by_role("row", name=re.compile("^Date paid \\w+ \\d+, \\d{4}$"))
    ).to_be_visible()
    expect(receipt.get_by_role("heading", name="What happens next")).to_be_visible()
    expect(receipt).not_to_contain_text(re.compile(r"\b(pi|cs)_"))
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"receipt-{width}px")
    page.emulate_media(media="print")
    shot(page, "receipt-printed")
    pdf = page.pdf(format="Letter")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "the receipt prints on one page"
    page.emulate_media(media="screen")

    amounts = poll(lambda: portal.ninox_grants(reference), f"a Ninox grant for {reference}")
    assert amounts == [Decimal("600.00")], "exactly one Ninox grant, of the match"

    def both_emails() -> list[tuple[str, str, str]]:
        sent = [e for e in portal.emails_for(reference) if e[2] == "sent"]
        kinds = {kind for kind, _to, _status in sent}
        return sent if {"email_vendor", "email_finance"} <= kinds else []

    sent = poll(both_emails, f"the vendor and finance emails for {reference}")
    recipients = {kind: to for kind, to, _ in sent}
    assert "vendor@example.org" in recipients["email_vendor"]
    assert "finance@example.org" in recipients["email_finance"]

    staff = new_page()
    sign_in(staff, "reviewer")
    staff.goto(f"/applications/{reference}/")
    expect(staff.locator("#status-cell")).to_contain_text("Paid")
    ninox_row = staff.get_by_role("row", name=re.compile("Ninox record"))
    poll(lambda: "written" in ninox_row.inner_text(), "the Ninox record on the staff page")
    emails = staff.locator("#emails")
    for address in ("vendor@example.org", "finance@example.org"):
        expect(emails.get_by_role("row", name=re.compile(re.escape(address)))).to_contain_text(
            "Sent"
        )
    timeline = staff.locator("#h-timeline + ol")
    expect(timeline).to_contain_text(f"Lodge {lodge.number} paid $750.00 by card")
    poll(lambda: f"Grant {reference} written to Ninox" in timeline.inner_text(), "the write-back")
    expect(timeline).not_to_contain_text("outbox")
    expect(timeline).not_to_contain_text("webhook")
    for width in (1280, 375):
        staff.set_viewport_size({"width": width, "height": 900})
        shot(staff, f"staff-application-paid-{width}px")
        # Wide tables scroll inside their box; the page itself never scrolls sideways.
        assert no_horizontal_scroll(staff), f"the application page scrolls at {width} px"


def test_a_reviewer_overrides_a_needs_review_application_from_the_queue_without_a_reload(
    portal: Portal, page: Any, new_page: Any, shot: Any
) -> None:
    inactive = portal.take_lodge("inactive")
    amount = min(Decimal("300.00"), inactive.remaining)
    reference = apply_for(page, inactive, raised=amount, requested=amount, charity="Scholarships")
    expect(
        page.get_by_role("heading", name="A person will review your application")
    ).to_be_visible()

    staff = new_page()
    sign_in(staff, "reviewer")
    shot(staff, "dashboard")
    staff.get_by_role("link", name="Review queue").first.click()
    staff.wait_for_url(re.compile(r"/queue/$"))  # and its load event: htmx is listening
    # The queue opens on "Needs review", and says so.
    expect(staff.get_by_label("Status")).to_have_value("needs_review")
    expect(staff.locator("#results")).to_contain_text("Showing “Needs review” only")
    staff.get_by_label("Search").fill(reference)
    expect(staff).to_have_url(re.compile(r"status=needs_review"))
    expect(staff).to_have_url(re.compile(rf"q={reference}"))
    row = staff.locator(f"#row-{reference}")
    expect(row).to_be_visible()
    expect(staff.locator("#result_list caption")).to_contain_text("1 application")
    expect(row).to_contain_text("Needs review")
    shot(staff, "queue-filtered")

    # Remember every version of the row the page shows. The row swaps itself in place; the
    # list does not refresh (reasons typed in other rows stay), the counters above it do.
    staff.evaluate(
        """reference => {
          window.__e2eNoReload = true;
          window.__rowTexts = [];
          new MutationObserver(() => {
            const row = document.getElementById("row-" + reference);
            if (row) { window.__rowTexts.push(row.innerText); }
          }).observe(document.getElementById("changelist"), {childList: true, subtree: true});
        }""",
        reference,
    )
    url_before = staff.url
    waiting_before = staff.locator("#queue-counters").inner_text()
    # Deciding happens in the row, expanded on demand; the message field takes the focus.
    row.get_by_role("button", name="Decide").click()
    expect(row.get_by_role("button", name="Reject")).to_be_visible()
    shot(staff, "queue-row-expanded")
    row.get_by_label(f"Message to the lodge for {reference}").fill(
        "Lodge confirmed active by phone"
    )
    row.get_by_role("button", name="Approve").click()
    expect(staff.locator("#toasts")).to_contain_text(f"{reference} approved")
    shot(staff, "row-approved-in-place")
    expect(staff.locator(f"#row-{reference}")).to_contain_text("Approved")
    expect(staff.locator("#queue-counters")).not_to_have_text(waiting_before)
    row_texts = staff.evaluate("window.__rowTexts")
    assert any("Approved" in text for text in row_texts), row_texts
    assert staff.evaluate("window.__e2eNoReload === true"), "the page reloaded"
    # Focus comes back when the row's swap settles (htmx's settle delay): wait for it, with a
    # limit that only bounds a hang; a portal that drops focus fails here.
    staff.wait_for_function("document.activeElement !== document.body", timeout=30_000)
    assert staff.url == url_before
    shot(staff, "approved-row-and-counters-updated")

    # The toast offers Undo for the minute the email waits: the row waits for review again.
    staff.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(staff.locator(f"#row-{reference}")).to_contain_text("Needs review")
    expect(staff.locator("#toasts")).to_contain_text("decision undone")
    shot(staff, "decision-undone")

    staff.goto(f"/applications/{reference}/")
    expect(staff.locator("#h-timeline + ol")).to_contain_text("Lodge confirmed active by phone")
    shot(staff, "application-timeline")

    # On the application's own page too: a decision there can be undone from its toast.
    actions = staff.locator("#actions")
    actions.get_by_label("Message to the lodge").fill("Please send the charity's registration")
    actions.get_by_role("button", name="Reject").click()
    expect(staff.locator("#toasts")).to_contain_text(f"{reference} rejected")
    expect(staff.locator("#actions")).to_contain_text("Rejected")
    # The rest of the page follows without a reload: the status, the decisions, the timeline.
    expect(staff.locator("#status-cell")).to_contain_text("Rejected")
    expect(staff.locator("#decisions")).to_contain_text("Rejected")
    expect(staff.locator("#h-timeline + ol")).to_contain_text(f"rejected {reference}")
    shot(staff, "application-rejected")
    staff.locator("#toasts").get_by_role("button", name="Undo").click()
    expect(staff.locator("#toasts")).to_contain_text("decision undone")
    expect(staff.locator("#actions")).to_contain_text("Needs review")
    expect(staff.locator("#status-cell")).to_contain_text("Needs review")
    expect(staff.locator("#h-timeline + ol")).to_contain_text("rejected decision was undone")
    shot(staff, "application-decision-undone")


def parse_money(text: str) -> Decimal:
    return Decimal(text.strip().replace("$", "").replace(",", "") or "0")


def test_finance_downloads_the_fy_summary_as_xlsx_and_its_totals_match_the_page(
    portal: Portal, page: Any, shot: Any, tmp_path: Any
) -> None:
    from openpyxl import load_workbook

    sign_in(page, "finance")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("Reports")
    ).click()
    expect(page.get_by_role("heading", name="FY summary per lodge", level=1)).to_be_visible()
    table = page.locator("#result_list")
    caption = table.locator("caption").inner_text()
    # The table pages 50 rows at a time; its totals row (bold, at the foot) covers every row,
    # and so must the file's.
    total = int(caption.split(" ", 1)[0])
    assert caption.startswith(f"{total} row")
    headers = [h.strip() for h in table.locator("thead th").all_text_contents()]
    foot = [cell.strip() for cell in table.locator("tfoot tr th, tfoot tr td").all_text_contents()]
    assert foot[0] == "Total"
    page_totals = {
        name: parse_money(foot[headers.index(name)]) for name in ("Approved", "Paid", "Remaining")
    }
    assert page_totals["Approved"] > 0
    shot(page, "summary-page")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    sheet = load_workbook(saved, read_only=True).worksheets[0]
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, *body = values
    total_row = next(row for row in body if row and row[0] == "Total")
    data_rows = body[: body.index(total_row)]
    assert len(data_rows) == total
    for name, expected in page_totals.items():
        assert Decimal(str(total_row[header.index(name)])).quantize(Decimal("0.01")) == expected, (
            name
        )


def test_an_admin_invites_a_user_changes_the_role_and_deactivates_the_account(
    portal: Portal, page: Any, shot: Any
) -> None:
    sign_in(page, "admin")
    page.goto("/manage/users/")
    expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    shot(page, "users")
    page.get_by_role("link", name="Invite a user").click()
    page.get_by_label("Email").fill("newcomer@example.org")
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label(re.compile("Reviewer:")).check()
    shot(page, "invite-form")
    page.get_by_role("button", name="Invite").click()
    expect(page.locator("#toasts")).to_contain_text("Invited newcomer")
    expect(page.locator(".facts")).to_contain_text("invited, no password yet")
    expect(page.get_by_label(re.compile("Reviewer:"))).to_be_checked()
    shot(page, "invited")

    page.goto("/manage/")
    expect(page.get_by_role("link", name="API tokens")).to_be_visible()
    shot(page, "manage-index")
    page.get_by_role("link", name="Users").first.click()
    page.get_by_role("link", name="newcomer").click()
    page.get_by_label(re.compile("Reviewer:")).uncheck()
    page.get_by_label(re.compile("Finance:")).check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.locator("#toasts")).to_contain_text("Roles of newcomer saved")
    expect(page.get_by_label(re.compile("Finance:"))).to_be_checked()
    expect(page.get_by_label(re.compile("Reviewer:"))).not_to_be_checked()
    shot(page, "role-changed")

    page.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(page.get_by_role("heading", name=re.compile("^Deactivate"))).to_be_visible()
    expect(page.locator(".confirm-step")).to_contain_text("signed out everywhere at once")
    shot(page, "deactivate-confirm")
    page.get_by_role("button", name="Deactivate newcomer").click()
    expect(page.locator(".facts")).to_contain_text("deactivated")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    shot(page, "deactivated")

    page.goto("/manage/users/")
    row = page.get_by_role("row", name=re.compile("newcomer"))
    expect(row).to_contain_text("Finance")
    expect(row).to_contain_text("deactivated")
    shot(page, "users-after")


def test_finance_refunds_part_of_a_paid_grant_and_ninox_the_budget_and_the_emails_follow(
    portal: Portal, page: Any, new_page: Any, shot: Any
) -> None:
    lodge = portal.take_lodge("none")
    reference = apply_for(
        page, lodge, raised=Decimal("500.00"), requested=Decimal("400.00"), charity="Youth Choir"
    )
    page.get_by_role("link", name="Pay $500.00 now").click()
    page.get_by_role("button", name="Pay", exact=True).click()
    press_pay(page)
    assert poll(lambda: portal.ninox_grants(reference), f"a Ninox grant for {reference}") == [
        Decimal("400.00")
    ]

    finance = new_page(1280, 900)
    sign_in(finance, "finance")

    def at_both_widths(step: str) -> None:
        """Screenshots at 1280 and 375 px, with no sideways scroll on the phone."""
        for width in (1280, 375):
            finance.set_viewport_size({"width": width, "height": 900})
            shot(finance, f"{step}-{width}px")
            assert no_horizontal_scroll(finance), f"{step} scrolls sideways at {width} px"
        finance.set_viewport_size({"width": 1280, "height": 900})

    def shows_paid() -> bool:
        finance.goto(f"/applications/{reference}/")
        return "Paid" in finance.locator("#status-cell").inner_text()

    poll(shows_paid, "the application page saying paid")
    at_both_widths("paid-with-refund-action")
    finance.get_by_role("link", name="Refund the lodge's share…").click()
    expect(
        finance.get_by_role("heading", name=f"Refund the lodge's share of {reference}")
    ).to_be_visible()
    finance.get_by_label("Amount of the share to refund").fill("200.00")
    finance.get_by_label("Reason").fill("The concert sold fewer tickets than planned.")
    at_both_widths("refund-form")
    finance.get_by_role("button", name="Review the refund").click()
    # Share $500.00, $200.00 back: the match that stays is min(400, 300) = $300.00.
    summary = finance.locator("#refund-summary")
    expect(summary).to_contain_text("Stripe will refund $200.00 of the lodge's share")
    expect(summary).to_contain_text("The match that stays is $300.00, so $100.00 returns")
    at_both_widths("refund-confirmation")
    finance.get_by_role("button", name="Refund $200.00 through Stripe").click()
    finance.wait_for_url(re.compile(rf"/applications/{reference}/$"))
    expect(finance.get_by_text("Stripe refunded $200.00 of the lodge's share.")).to_be_visible()
    expect(finance.get_by_role("row", name=re.compile("Refunded to the lodge"))).to_contain_text(
        "$200.00 of its $500.00 share"
    )
    expect(finance.get_by_role("row", name=re.compile("Match that stays"))).to_contain_text(
        "$300.00 ($100.00 returned to the lodge's budget)"
    )
    expect(finance.locator(".timeline")).to_contain_text("partly refunded")
    at_both_widths("partly-refunded")

    assert poll(
        lambda: portal.ninox_grants(reference) == [Decimal("300.00")],
        "the Ninox grant's Amount reduced to the match that stays",
    )

    def refund_emails() -> list[tuple[str, str, str]]:
        sent = [e for e in portal.emails_for(reference) if e[2] == "sent"]
        kinds = {kind for kind, _to, _status in sent}
        wanted = {"email_refund_lodge", "email_refund_vendor", "email_refund_finance"}
        return sent if wanted <= kinds else []

    sent = {kind: to for kind, to, _ in poll(refund_emails, "the three refund emails")}
    assert sent["email_refund_lodge"] == "secretary@example.org"
    assert "vendor@example.org" in sent["email_refund_vendor"]
    assert "finance@example.org" in sent["email_refund_finance"]

    finance.goto(f"/lodges/{lodge.number}/")
    expect(
        finance.get_by_text("$200.00 of the share refunded, $300.00 of the match stays")
    ).to_be_visible()
    at_both_widths("lodge-page")


def test_an_admin_previews_a_cap_change_for_next_year_confirms_it_and_reads_it_in_the_audit_log(
    portal: Portal, new_page: Any, shot: Any
) -> None:
    page = new_page(1280, 900)
    sign_in(page, "admin")
    page.goto("/manage/rules/")
    expect(page.get_by_label("Fiscal year starts: month")).to_have_value("5")  # a month list
    starts_in = page.get_by_label("Programme changes start in")
    next_year = starts_in.locator("option").nth(1)
    next_label = next_year.inner_text().split(",")[0]  # "FY 2027-28", from the clock
    starts_in.select_option(index=1)
    page.get_by_label("Annual cap").fill("4500.00")
    page.get_by_label("Why").fill("The board raised next year's cap")
    shot(page, "rules-form-1280px")
    page.get_by_role("button", name="Preview the change").click()
    preview = page.locator(".rules-preview")
    expect(preview).to_contain_text(f"Annual cap: $4,000.00 → $4,500.00 (from {next_label})")
    expect(preview).to_contain_text(f"from {next_label}, which starts")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"rules-preview-{width}px")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Confirm and save").click()
    expect(page.locator("#toasts")).to_contain_text("saved")
    history = page.locator("#result_list tbody tr").first
    expect(history).to_contain_text("Annual cap: $4,000.00 → $4,500.00")
    expect(history).to_contain_text(f"Programme rules from {next_label}.")
    expect(history).to_contain_text("The board raised next year's cap")
    # This year's cap is untouched: the pages still say $4,000.00.
    in_force = page.get_by_role("region", name="In force")
    expect(in_force.get_by_role("row", name="Annual cap $4,000.00 $4,500.00")).to_be_visible()
    shot(page, "rules-saved")

    page.goto("/manage/audit/?action=grant_rules")
    row = page.locator("#result_list tbody tr").first
    expect(row.get_by_role("rowheader")).to_contain_text(
        re.compile(r"changed the grant rules: the annual cap from \$4,000\.00 to \$4,500\.00")
    )
    row.locator("summary", has_text="Details").click()
    expect(row.locator("details")).to_contain_text("grant_rules.changed")
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"audit-log-{width}px")
