"""What a secretary does in the browser, step by step, for the journey and accessibility tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.e2e.conftest import DemoLodge, require_module

expect = require_module("playwright.sync_api", "browser tests").expect

POLL_SECONDS = 60  # bounds a hang of the worker; a busy machine is slow, not wrong


def money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def fill_application(
    page: Any, lodge: DemoLodge, *, raised: Decimal, requested: Decimal, charity: str
) -> None:
    """Fill /apply/ as a secretary would, checking the lodge's name appears as it is typed."""
    page.get_by_label("Lodge number").fill(str(lodge.number))
    expect(page.locator("#lodge-name")).to_contain_text(lodge.name)
    page.get_by_label("Contact name").fill("Sam Secretary")
    page.get_by_label("Contact email").fill("secretary@example.org")
    page.get_by_label("Charity or cause").fill(charity)
    page.get_by_label("Purpose").fill("A winter coat drive for the shelter.")
    page.get_by_label("Amount raised").fill(f"{raised:.2f}")
    page.get_by_label("Amount requested").fill(f"{requested:.2f}")
    page.get_by_label("Event date").fill(time.strftime("%Y-%m-%d"))


def apply_for(
    page: Any, lodge: DemoLodge, *, raised: Decimal, requested: Decimal, charity: str = "Food Bank"
) -> str:
    """Apply through the form; returns the reference shown on the status page."""
    page.goto("/apply/")
    fill_application(page, lodge, raised=raised, requested=requested, charity=charity)
    page.get_by_role("button", name="Send the application").click()
    page.wait_for_url(re.compile(r"/status/"))
    reference = page.get_by_role("row", name=re.compile("Reference")).get_by_role("cell")
    return str(reference.inner_text()).strip()


def apply_for_review(page: Any, portal: Any, amount: Decimal = Decimal("90.00")) -> str:
    """An application that waits for review, made whatever ran before: Ninox does not
    answer while it is decided (the emulator's 503 fault), so it goes to a person. Every
    such application goes to the one lodge set aside for them, so the demo's scarce
    lodges (inactive, or with nothing this year) are left to the tests that need them."""
    portal.emulator.faults.configure("503=1")
    try:
        return apply_for(page, portal.lodge_for_review(), raised=amount, requested=amount)
    finally:
        portal.emulator.faults.clear()


def poll(check: Callable[[], Any], what: str, seconds: float = POLL_SECONDS) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not seen within {seconds:.0f} s")
        time.sleep(0.5)


def press_pay(page: Any) -> None:
    """On the dev checkout: press Pay and wait until the page the payment leads to has loaded.

    The form posts and is redirected back to the same /pay/ address, so the URL cannot be
    waited for: the checkout's heading going is the sign. ``wait_for_load_state`` alone
    returns at once (the checkout itself has loaded), and a ``reload`` issued while the
    post is still in flight races Chromium's swap of the page: "Page.reload: Protocol
    error ... Not attached to an active page".
    """
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Pay your lodge's share")
    page.wait_for_load_state()
