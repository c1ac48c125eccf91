"""Grant rules: a change is a new version in force from now; earlier decisions keep theirs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from grants.models import Decision, GrantRules, Lodge
from grants.rules import rules_in_force
from grants.services.submit import application_submit
from portal.models import AuditEvent
from tests.conftest import client_for
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db


def form_values(**changes: str) -> dict[str, str]:
    rules = rules_in_force()
    values = {
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
    }
    values.update(changes)
    return values


def test_a_rule_change_does_not_change_decisions_made_before_it(
    fresh_lodge: Lodge, admin_user: Any
) -> None:
    before = application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")
    first = Decision.objects.get(application=before)
    assert (first.rules_version, first.cap) == (1, Decimal("4000.00"))

    response = client_for(admin_user).post("/manage/rules/", form_values(annual_cap="1000.00"))
    assert response.status_code == 302
    assert rules_in_force().version == 2
    assert rules_in_force().annual_cap == Decimal("1000.00")

    after = application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")
    second = Decision.objects.get(application=after)
    assert (second.rules_version, second.cap) == (2, Decimal("1000.00"))
    first.refresh_from_db()
    before.refresh_from_db()
    assert (first.rules_version, first.cap) == (1, Decimal("4000.00"))
    assert before.status == "approved"


def test_the_history_shows_who_when_and_the_old_and_new_values(admin_user: Any) -> None:
    client = client_for(admin_user)
    client.post("/manage/rules/", form_values(vendor_email="gifts@example.org", digest_hour="9"))
    page = client.get("/manage/rules/").content.decode()
    assert "Vendor email: vendor@example.org → gifts@example.org" in page
    assert "Digest hour: 7 → 9" in page
    assert "<td>ada</td>" in page
    event = AuditEvent.objects.get(action="grant_rules.changed")
    assert event.before == {"digest_hour": 7, "vendor_email": "vendor@example.org"}
    assert event.after == {"digest_hour": 9, "vendor_email": "gifts@example.org"}
    assert GrantRules.objects.get(version=2).created_by == admin_user


def test_saving_unchanged_rules_makes_no_version(admin_user: Any) -> None:
    client_for(admin_user).post("/manage/rules/", form_values())
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
