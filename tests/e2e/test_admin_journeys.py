"""Issue 20, points 3 and 4 in the browser, at 375 px and 1280 px: the health page answers
"is everything fine?" with a banner linking to its panels; administration asks before it
acts (deactivate, revoke a token), /manage/ lists its sections, the roles read in full and a
refused own-Admin removal names the field once and keeps the boxes. Axe checks each state."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.axe import AxeReport, no_horizontal_scroll
from tests.e2e.conftest import Portal, sign_in
from tests.e2e.steps import expect

SIZES = [(375, 812), (1280, 800)]


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_the_health_page_says_at_a_glance_whether_anything_needs_attention(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"health-{width}")
    sign_in(page, "admin")
    page.goto("/health/")
    banner = page.locator(".health-banner h2")
    expect(banner).to_have_text(re.compile(r"^(All systems working|\d+ things? needs? attention)$"))
    for heading in (
        "Ninox connection",
        "Emails and write-backs waiting",
        "Background worker and scheduler",
    ):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    for word in ("stored probe", "high-water", "Outbox", "Celery beat"):
        expect(page.locator("main")).not_to_contain_text(word)
    assert no_horizontal_scroll(page), f"the health page scrolls sideways at {width} px"
    shot(page, "health")
    report.check(page, "health")
    links = page.locator(".health-banner a")
    if links.count():
        target = links.first.get_attribute("href")
        assert target is not None
        links.first.click()
        expect(page).to_have_url(re.compile(re.escape(target) + "$"))
        expect(page.locator(target)).to_be_visible()
        shot(page, "health-followed-the-banner", full_page=False)
    report.assert_clean()


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["375px", "1280px"])
def test_administration_asks_before_it_acts_and_keeps_what_was_chosen(
    portal: Portal, new_page: Any, shot: Any, width: int, height: int
) -> None:
    page = new_page(width, height)
    report = AxeReport(f"admin-{width}")
    sign_in(page, "admin")
    page.goto("/manage/")
    for section in ("Users", "Grant rules", "API tokens", "Audit log"):
        expect(page.locator(".manage-index").get_by_role("link", name=section)).to_be_visible()
    shot(page, "manage-index")
    report.check(page, "manage: index")

    # A refused own-Admin removal: the field named once, the other choices kept.
    page.goto("/manage/users/admin/")
    shot(page, "own-user-page")
    page.get_by_label(re.compile("Admin:")).uncheck()
    page.get_by_label(re.compile("Finance:")).check()
    page.get_by_role("button", name="Save roles").click()
    errors = page.locator(".errorlist")
    expect(errors).to_contain_text("Roles: ask another admin to remove your Admin role.")
    expect(errors).not_to_contain_text("Roles: Roles:")
    expect(page.get_by_label(re.compile("Admin:"))).to_be_checked()
    expect(page.get_by_label(re.compile("Finance:"))).to_be_checked()
    assert no_horizontal_scroll(page), f"the user page scrolls sideways at {width} px"
    shot(page, "own-admin-refused")
    report.check(page, "manage: own Admin role refused")

    # Deactivating asks first, saying what follows.
    username = f"temp{width}"
    page.goto("/manage/users/invite/")
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Username").fill(username)
    page.get_by_label(re.compile("Reviewer:")).check()
    page.get_by_role("button", name="Invite").click()
    expect(page.locator(".facts")).to_contain_text("invited, no password yet")
    shot(page, "user-roles")
    page.get_by_role("button", name=re.compile("^Deactivate")).click()
    expect(page.get_by_role("heading", name=f"Deactivate {username}?")).to_be_visible()
    expect(page.locator(".confirm-step")).to_contain_text("signed out everywhere at once")
    shot(page, "deactivate-asks")
    report.check(page, "manage: confirm deactivating")
    page.get_by_role("link", name=re.compile("^Cancel")).click()
    expect(page.locator(".facts")).not_to_contain_text("deactivated")
    page.get_by_role("button", name=re.compile("^Deactivate")).click()
    page.get_by_role("button", name=f"Deactivate {username}").click()
    expect(page.locator(".facts")).to_contain_text("deactivated")

    # Revoking a token says the website stops sending applications.
    page.goto("/manage/tokens/")
    name = f"Journey {width}"
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Create a token").click()
    expect(page.locator(".token-once")).to_be_visible()
    page.get_by_role("row", name=re.compile(name)).get_by_role("button", name="Revoke").click()
    confirm = page.locator(".confirm-step")
    expect(confirm).to_contain_text("the website will stop sending applications")
    shot(page, "revoke-asks")
    report.check(page, "manage: confirm revoking a token")
    page.get_by_role("button", name=f"Revoke {name}").click()
    expect(page.locator("#toasts")).to_contain_text("is revoked")
    expect(page.get_by_role("row", name=re.compile(name))).to_contain_text("revoked")
    report.assert_clean()
