"""Grant rules change the future, not the past.

Programme rules (cap, match ratio, auto-approve limit) start in a fiscal year the admin
names (this one or the next), after a preview of which lodges they affect and a
confirmation, with who and why recorded; earlier years keep the rules they were decided
under. Settings take effect at once. Fiscal years come from the clock, never written here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest

from grants.fiscal_year import long_date
from grants.models import Decision, GrantRules, Lodge
from grants.rules import current_fiscal_year, rules_for_fiscal_year, rules_in_force
from grants.services.rules import grant_rules_change
from grants.services.submit import application_submit
from portal.lib.errors import PortalError
from portal.models import AuditEvent
from tests.conftest import client_for
from tests.factories import LodgeFactory, NinoxGrantFactory
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db


def form_values(**changes: str) -> dict[str, str]:
    rules = rules_in_force()
    values = {
        "fiscal_year_from": str(current_fiscal_year().key),
        "annual_cap": str(rules.annual_cap),
        "fiscal_year_start_month": str(rules.fiscal_year_start_month),
        "fiscal_year_start_day": str(rules.fiscal_year_start_day),
        "match_ratio": str(rules.match_ratio),
        "auto_approve_limit": ""
        if rules.auto_approve_limit is None
        else str(rules.auto_approve_limit),
        "payment_link_days": str(rules.payment_link_days),
        "vendor_email": rules.vendor_email,
        "finance_email": rules.finance_email,
        "digest_hour": str(rules.digest_hour),
        "reason": "Board meeting decision",
    }
    if rules.show_remaining_on_apply:  # a checkbox: sent only when ticked
        values["show_remaining_on_apply"] = "on"
    values.update(changes)
    return values


def preview_and_confirm(client: Any, **changes: str) -> Any:
    preview = client.post("/manage/rules/", form_values(**changes))
    assert preview.status_code == 200
    assert "Confirm and save" in preview.content.decode()
    return client.post("/manage/rules/", {**form_values(**changes), "confirm": "yes"})


def text(response: Any) -> str:
    return text_of(response.content.decode())


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def last_year_at_the_cap(db: Any) -> Lodge:
    """A lodge that used all $4,000.00 of last fiscal year's cap."""
    last = current_fiscal_year().previous()
    lodge = LodgeFactory.create(name="Harmony Lodge")
    NinoxGrantFactory.create(
        lodge=lodge, amount=Decimal("4000.00"), grant_date=last.start, fiscal_year=last.key
    )
    return lodge


def test_the_preview_names_each_lodge_affected_and_saves_nothing_until_confirmed(
    admin_user: Any,
) -> None:
    lodge = LodgeFactory.create(name="Unity Lodge")
    NinoxGrantFactory.create(lodge=lodge, amount=Decimal("3800.00"))
    numbered = LodgeFactory.create(number=8176, name="Doric No. 8176")
    NinoxGrantFactory.create(lodge=numbered, amount=Decimal("100.00"))
    client = client_for(admin_user)
    preview = client.post("/manage/rules/", form_values(annual_cap="3500.00"))
    page = text(preview)
    assert "Doric No. 8176 $100.00" in page  # the number once, when the name has it
    assert "Annual cap : $4,000.00 → $3,500.00" in page
    assert f"Unity Lodge (No. {lodge.number}) $3,800.00 $200.00 over the cap by $300.00" in page
    assert '<span class="over-cap">over the cap by $300.00</span>' in preview.content.decode()
    assert "1 would be over the new cap" in page
    assert "-$300.00" not in page
    assert GrantRules.objects.count() == 1

    confirmed = client.post(
        "/manage/rules/", {**form_values(annual_cap="3500.00"), "confirm": "yes"}
    )
    assert confirmed.status_code == 302
    assert rules_in_force().annual_cap == Decimal("3500.00")
    saved = GrantRules.objects.get(version=2)
    assert (saved.created_by, saved.reason) == (admin_user, "Board meeting decision")
    assert saved.fiscal_year_from == current_fiscal_year().key


def test_a_cap_change_does_not_change_decisions_made_before_it(
    fresh_lodge: Lodge, admin_user: Any
) -> None:
    before = application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")
    first = Decision.objects.get(application=before)
    assert (first.rules_version, first.cap) == (1, Decimal("4000.00"))
    assert preview_and_confirm(client_for(admin_user), annual_cap="1000.00").status_code == 302
    after = application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")
    second = Decision.objects.get(application=after)
    assert (second.rules_version, second.cap) == (2, Decimal("1000.00"))
    first.refresh_from_db()
    assert (first.rules_version, first.cap) == (1, Decimal("4000.00"))


def test_a_cap_change_leaves_last_years_pages_untouched(
    admin_user: Any, finance: Any, last_year_at_the_cap: Lodge
) -> None:
    last = current_fiscal_year().previous()
    client = client_for(admin_user)
    assert preview_and_confirm(client, annual_cap="3500.00").status_code == 302
    assert rules_for_fiscal_year(last.key).annual_cap == Decimal("4000.00")

    listing = text(client.get("/lodges/", {"fy": str(last.key), "q": "Harmony"}))
    assert "$4,000.00 of $4,000.00" in listing
    assert "$3,500.00" not in listing
    assert "-$500.00" not in listing
    assert "over the cap" not in listing
    lodge_page = text(client.get(f"/lodges/{last_year_at_the_cap.number}/"))
    assert f"{last.label} ({last.span}) — $4,000.00 of $4,000.00" in lodge_page
    assert "over the cap" not in lodge_page
    reports = client_for(finance)
    summary = reports.get("/reports/", {"fy": str(last.key)}).content.decode()
    table = summary[summary.index('id="result_list"') :]
    row = text_of(next(tr for tr in table.split("</tr>") if "Harmony Lodge" in tr))
    assert "$4,000.00 $4,000.00 $4,000.00 $0.00 $0.00 $0.00" in row  # cap, approved, paid...
    assert "over-cap" not in table.split("Harmony Lodge")[1].split("</tr>")[0]
    dashboard = text(reports.get("/", {"fy": str(last.key)}))
    assert "$3,500.00" not in dashboard
    assert "over the cap" not in dashboard


def test_a_lodge_over_a_lowered_cap_shows_over_the_cap_never_a_negative_remaining(
    admin_user: Any, finance: Any
) -> None:
    lodge = LodgeFactory.create(name="Concord Lodge")
    NinoxGrantFactory.create(lodge=lodge, amount=Decimal("4000.00"))
    client = client_for(admin_user)
    preview_and_confirm(client, annual_cap="3500.00")
    response = client.get("/lodges/", {"q": "Concord"})
    html = response.content.decode()
    assert '<span class="over-cap">over the cap by $500.00</span>' in html
    assert "-$500.00" not in html
    lodge_page = client.get(f"/lodges/{lodge.number}/").content.decode()
    assert '<span class="over-cap">over the cap</span>' in lodge_page
    summary = client_for(finance).get("/reports/").content.decode()
    table = summary[summary.index('id="result_list"') :]
    row = next(tr for tr in table.split("</tr>") if "Concord Lodge" in tr)
    assert '<td class="num">$0.00</td><td class="num over-cap">$500.00</td>' in row  # in red
    assert "-$" not in row


def test_a_change_for_next_year_leaves_this_year_alone(admin_user: Any) -> None:
    this, following = current_fiscal_year(), current_fiscal_year().next()
    client = client_for(admin_user)
    preview = text(
        client.post(
            "/manage/rules/",
            form_values(fiscal_year_from=str(following.key), annual_cap="5000.00"),
        )
    )
    assert f"from {following.label}, which starts" in preview
    client.post(
        "/manage/rules/",
        {
            **form_values(fiscal_year_from=str(following.key), annual_cap="5000.00"),
            "confirm": "yes",
        },
    )
    assert rules_in_force().annual_cap == Decimal("4000.00")
    assert rules_for_fiscal_year(this.key).annual_cap == Decimal("4000.00")
    assert rules_for_fiscal_year(following.key).annual_cap == Decimal("5000.00")
    # The first moment of next year is decided under next year's cap.
    assert rules_in_force(
        at=rules_in_force().effective_from.replace(
            year=following.start.year, month=following.start.month, day=following.start.day
        )
        + timedelta(hours=12)
    ).annual_cap == Decimal("5000.00")


def test_a_settings_change_takes_effect_at_once_and_keeps_next_years_cap(
    admin_user: Any,
) -> None:
    following = current_fiscal_year().next()
    grant_rules_change(
        changes={"annual_cap": Decimal("5000.00")},
        actor=admin_user,
        fiscal_year_from=following.key,
        reason="Next year's budget",
    )
    grant_rules_change(changes={"digest_hour": 9}, actor=admin_user, reason="Reviewers start later")
    assert rules_in_force().digest_hour == 9
    assert rules_in_force().annual_cap == Decimal("4000.00")
    assert rules_for_fiscal_year(following.key).annual_cap == Decimal("5000.00")


def test_a_past_fiscal_year_cannot_be_chosen(admin_user: Any) -> None:
    last = current_fiscal_year().previous()
    response = client_for(admin_user).post(
        "/manage/rules/", form_values(fiscal_year_from=str(last.key), annual_cap="1.00")
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    with pytest.raises(PortalError) as refused:
        grant_rules_change(
            changes={"annual_cap": Decimal("1.00")},
            actor=admin_user,
            fiscal_year_from=last.key,
            reason="x",
        )
    assert "keeps the rules it was decided under" in refused.value.errors["fiscal_year_from"][0]
    assert GrantRules.objects.count() == 1


def test_a_change_without_a_reason_is_refused_naming_the_field(admin_user: Any) -> None:
    response = client_for(admin_user).post(
        "/manage/rules/", form_values(annual_cap="3000.00", reason="")
    )
    assert "Why: This field is required." in response.content.decode()
    with pytest.raises(PortalError):
        grant_rules_change(changes={"annual_cap": Decimal("3000.00")}, actor=admin_user)
    assert GrantRules.objects.count() == 1


def test_the_history_shows_who_when_why_and_money_as_money(admin_user: Any) -> None:
    client = client_for(admin_user)
    preview_and_confirm(client, annual_cap="3500.00", vendor_email="gifts@example.org")
    page = text(client.get("/manage/rules/"))
    assert "Annual cap: $4,000.00 → $3,500.00" in page
    assert "Vendor email: vendor@example.org → gifts@example.org" in page
    assert f"Programme rules from {current_fiscal_year().label}." in page
    assert "Board meeting decision" in page
    assert "4000.00 → 3500.00" not in page
    event = AuditEvent.objects.get(action="grant_rules.changed")
    assert event.before == {"annual_cap": "4000.00", "vendor_email": "vendor@example.org"}
    assert event.after == {"annual_cap": "3500.00", "vendor_email": "gifts@example.org"}
    assert "Board meeting decision" in event.message
    audit = text(client.get("/manage/audit/"))
    assert "Ada changed the grant rules: the annual cap from $4,000.00 to $3,500.00" in audit


def test_the_fiscal_year_start_month_is_chosen_from_a_list(admin_user: Any) -> None:
    html = client_for(admin_user).get("/manage/rules/").content.decode()
    select = re.search(r'<select name="fiscal_year_start_month".*?</select>', html, re.S)
    assert select is not None
    assert re.search(r'<option value="5" selected>May</option>', select.group(0))
    assert select.group(0).count("<option") == 12


def test_saving_unchanged_rules_makes_no_version(admin_user: Any) -> None:
    response = client_for(admin_user).post("/manage/rules/", form_values())
    assert response.status_code == 302
    assert GrantRules.objects.count() == 1


def test_a_bad_value_shows_the_form_again_naming_the_field(admin_user: Any) -> None:
    client = client_for(admin_user)
    page = client.post(
        "/manage/rules/", form_values(fiscal_year_start_month="2", fiscal_year_start_day="29")
    )
    assert page.status_code == 422
    assert "cannot start on month 2, day 29" in page.content.decode()
    htmx = client.post(
        "/manage/rules/", form_values(annual_cap="lots"), headers={"HX-Request": "true"}
    )
    assert htmx.status_code == 422
    assert "Annual cap: Enter a number." in htmx.content.decode()
    assert GrantRules.objects.count() == 1


def test_only_admins_change_rules(finance: Any) -> None:
    assert client_for(finance).post("/manage/rules/", form_values()).status_code == 403


def two_months_later(month: int) -> int:
    return (month + 1) % 12 + 1


def test_a_new_fiscal_year_start_takes_effect_at_the_next_boundary_after_one_transition_year(
    admin_user: Any,
) -> None:
    this = current_fiscal_year()
    new_month = two_months_later(this.start.month)
    first_new = this.start.replace(year=this.key + 2, month=new_month)
    # A grant entered in Ninox for the months the transition year gains, and one this year.
    day = first_new - timedelta(days=20)
    later = NinoxGrantFactory.create(
        grant_date=day, fiscal_year=fiscal_year_key_under_old_start(day, this)
    )
    assert later.fiscal_year == this.key + 2
    now_grant = NinoxGrantFactory.create()
    client = client_for(admin_user)
    changes = {"fiscal_year_start_month": str(new_month)}

    preview = text(client.post("/manage/rules/", form_values(**changes)))
    span = f"{long_date(this.end + timedelta(days=1))} \N{EN DASH} {long_date(first_new - timedelta(days=1))}"
    starts, ends = this.end + timedelta(days=1), first_new - timedelta(days=1)
    months = (ends.year - starts.year) * 12 + ends.month - starts.month + 1  # 14 from May
    transition = f"runs {span} ({months} months) as the one transition year"
    assert transition in preview
    assert GrantRules.objects.count() == 1
    client.post("/manage/rules/", {**form_values(**changes), "confirm": "yes"})

    assert current_fiscal_year() == this  # this year keeps its start and end
    following = current_fiscal_year().next()
    assert (following.start, following.end) == (
        this.end + timedelta(days=1),
        first_new - timedelta(days=1),
    )
    assert following.next().start == first_new
    later.refresh_from_db()
    now_grant.refresh_from_db()
    assert later.fiscal_year == following.key  # re-bucketed into the transition year
    assert now_grant.fiscal_year == this.key
    page = text(client.get("/manage/rules/"))
    assert transition in page


def fiscal_year_key_under_old_start(day: Any, this: Any) -> int:
    return day.year if (day.month, day.day) >= (this.start.month, this.start.day) else day.year - 1


def test_a_lodge_over_a_lowered_cap_is_told_so_in_words_not_a_negative_figure(
    fresh_lodge: Lodge, admin_user: Any
) -> None:
    NinoxGrantFactory.create(lodge=fresh_lodge, amount=Decimal("4000.00"))
    grant_rules_change(
        changes={"annual_cap": Decimal("3500.00")}, actor=admin_user, reason="Budget cut"
    )
    application = application_submit(
        cleaned=as_cleaned(valid_body(fresh_lodge.number, amount_requested="10.00")),
        source="web",
    )
    explanation = Decision.objects.get(application=application).explanation
    fy = current_fiscal_year()
    assert explanation.startswith(
        f"Lodge {fresh_lodge.number} has used $4,000.00 for {fy.label} ({fy.span}), "
        "over the cap of $3,500.00; $0.00 remains"
    )
    assert "-$" not in explanation
    assert "of its $3,500.00" not in explanation
