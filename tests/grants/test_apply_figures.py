"""Apply with the figures in view: what the lodge has left as its number is typed (limited per
address; an admin may turn it off), a prefilled application for what remains after a
rejection for asking more, and the same figures in the API's reply."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from grants.fiscal_year import long_date
from grants.models import Application, GrantRules, Lodge, Status
from grants.money import format_money
from grants.rules import current_fiscal_year, rules_in_force
from grants.selectors.budgets import lodge_budget
from grants.services.api_tokens import api_token_create
from grants.services.submit import application_submit
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits() -> Any:
    cache.clear()
    yield
    cache.clear()


def submit(number: int, amount: str) -> Application:
    body = valid_body(number, amount_raised=amount, amount_requested=amount)
    return application_submit(cleaned=as_cleaned(body), source="web")


def expected_left(lodge: Lodge) -> str:
    fy = current_fiscal_year()
    cap = rules_in_force().annual_cap
    left = lodge_budget(lodge.id, fy.key, cap).remaining
    return f"{format_money(left)} left in {fy.label} (until {long_date(fy.end)})"


def lookup(number: int, **extra: Any) -> Any:
    return Client().get(
        "/apply/lodge/", {"lodge_number": str(number)}, headers={"HX-Request": "true"}, **extra
    )


def test_the_lookup_shows_the_name_and_what_the_lodge_has_left_this_fiscal_year(
    fresh_lodge: Lodge,
) -> None:
    submit(fresh_lodge.number, "3346.75")
    text = lookup(fresh_lodge.number).content.decode()
    assert escape(fresh_lodge.name) in text
    assert expected_left(fresh_lodge) in text
    assert expected_left(fresh_lodge).startswith("$653.25 left in FY ")


def test_an_admin_can_turn_the_figure_off(fresh_lodge: Lodge) -> None:
    rules_in_force()  # the first version, seeded from the settings
    GrantRules.objects.update(show_remaining_on_apply=False)
    text = lookup(fresh_lodge.number).content.decode()
    assert escape(fresh_lodge.name) in text
    assert " left in " not in text


def test_the_lookup_is_limited_per_address(fresh_lodge: Lodge, settings: Any) -> None:
    settings.PORTAL_LODGE_LOOKUP_RATE_PER_HOUR = 3
    for _ in range(3):
        assert " left in " in lookup(fresh_lodge.number, REMOTE_ADDR="10.7.7.7").content.decode()
    limited = lookup(fresh_lodge.number, REMOTE_ADDR="10.7.7.7").content.decode()
    assert "Too many lookups" in limited
    assert " left in " not in limited
    plain = Client().get(
        "/apply/lodge/", {"lodge_number": str(fresh_lodge.number)}, REMOTE_ADDR="10.7.7.7"
    )
    assert plain.status_code == 429
    assert " left in " in lookup(fresh_lodge.number, REMOTE_ADDR="10.7.7.8").content.decode()


def test_a_rejection_for_asking_more_than_remains_offers_a_prefilled_application(
    fresh_lodge: Lodge,
) -> None:
    submit(fresh_lodge.number, "3346.75")
    client = Client()
    response = client.post(
        "/apply/",
        valid_body(fresh_lodge.number, amount_raised="1000.00", amount_requested="1000.00"),
        follow=True,
    )
    rejected = Application.objects.get(amount_requested="1000.00")
    assert rejected.status == Status.REJECTED
    text = response.content.decode()
    assert "Apply for $653.25 instead" in text
    assert "apply again this fiscal year for a match of no more than $653.25" in text
    link = text.split('href="/apply/?again=')[1].split('"')[0]
    form = client.get("/apply/", {"again": link}).content.decode()
    assert 'value="653.25"' in form
    assert f'value="{fresh_lodge.number}"' in form
    assert expected_left(fresh_lodge) in form  # the figure is already in view
    assert escape(rejected.charity_name) in form


def test_the_api_reply_carries_the_same_figures(fresh_lodge: Lodge) -> None:
    submit(fresh_lodge.number, "3346.75")
    token = api_token_create(name="website")[1]
    body = {
        **valid_body(fresh_lodge.number, amount_raised="1000.00", amount_requested="1000.00"),
        "lodge_number": fresh_lodge.number,
    }
    response = Client().post(
        "/api/v1/applications",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    reply = response.json()
    assert reply["status"] == "rejected"
    fy = current_fiscal_year()
    assert reply["lodge_left"] == {
        "amount": "653.25",
        "fiscal_year": fy.label,
        "until": fy.end.isoformat(),
        "sentence": expected_left(fresh_lodge),
    }
    assert reply["apply_for"] == "653.25"
    assert "$653.25" in reply["what_next"]


def test_what_is_left_follows_the_clock_into_the_next_fiscal_year(fresh_lodge: Lodge) -> None:
    submit(fresh_lodge.number, "3346.75")
    this_year = current_fiscal_year()
    first_day = datetime.combine(
        this_year.end + timedelta(days=1), time(9), timezone.get_current_timezone()
    )
    with mock.patch("django.utils.timezone.now", return_value=first_day):
        next_year = current_fiscal_year()
        text = lookup(fresh_lodge.number).content.decode()
    assert next_year.key == this_year.key + 1
    cap = format_money(rules_in_force().annual_cap)
    assert f"{cap} left in {next_year.label} (until {long_date(next_year.end)})" in text


def test_the_api_reply_never_has_a_negative_remaining_for_a_lodge_over_a_lowered_cap(
    fresh_lodge: Lodge, admin_user: Any
) -> None:
    from grants.services.rules import grant_rules_change
    from tests.factories import NinoxGrantFactory

    NinoxGrantFactory.create(lodge=fresh_lodge, amount=rules_in_force().annual_cap)
    lowered = rules_in_force().annual_cap - Decimal("500.00")
    grant_rules_change(changes={"annual_cap": lowered}, actor=admin_user, reason="Budget cut")
    token = api_token_create(name="website")[1]
    body = {
        **valid_body(fresh_lodge.number, amount_raised="100.00", amount_requested="100.00"),
        "lodge_number": fresh_lodge.number,
    }
    reply = (
        Client()
        .post(
            "/api/v1/applications",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        .json()
    )
    assert reply["status"] == "rejected"
    assert reply["remaining"] == "0.00"
    assert reply["over_cap_by"] == "500.00"
    assert reply["lodge_left"]["amount"] == "0.00"
    assert "-" not in json.dumps({k: reply[k] for k in ("cap", "used", "remaining")})


def test_the_api_reply_says_over_the_cap_by_nothing_for_a_lodge_within_it(
    fresh_lodge: Lodge,
) -> None:
    token = api_token_create(name="website")[1]
    body = {**valid_body(fresh_lodge.number), "lodge_number": fresh_lodge.number}
    reply = (
        Client()
        .post(
            "/api/v1/applications",
            json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        .json()
    )
    assert reply["over_cap_by"] == "0.00"
    assert reply["remaining"] == str(rules_in_force().annual_cap)
