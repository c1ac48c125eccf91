from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grants.models import Application, Lodge
from tests.grants.conftest import statements, valid_body

pytestmark = pytest.mark.django_db


def test_the_apply_form_shows_every_field_with_a_label(mirrored: Any) -> None:
    body = Client().get("/apply/").content.decode()
    from grants.forms import LABELS

    for label in (
        "Lodge number",
        "Contact name",
        "Contact email",
        "Charity or cause",
        "Purpose",
        "Amount raised",
        "Amount requested",
        LABELS["event_date"],
    ):
        assert label in body


def test_the_lodge_name_is_shown_back_as_the_number_is_typed(fresh_lodge: Lodge) -> None:
    response = Client().get(
        "/apply/lodge/", {"lodge_number": str(fresh_lodge.number)}, headers={"HX-Request": "true"}
    )
    text = response.content.decode()
    from django.utils.html import escape

    assert escape(fresh_lodge.name) in text
    assert "<html" not in text
    unknown = Client().get("/apply/lodge/", {"lodge_number": "99998"}).content.decode()
    assert "No lodge has number 99998" in unknown


def test_an_approved_application_shows_the_decision_and_the_payment_step(
    fresh_lodge: Lodge,
) -> None:
    client = Client()
    response = client.post(
        "/apply/",
        valid_body(fresh_lodge.number, amount_raised="$1,250.00", amount_requested="1,000"),
        follow=True,
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "Approved: please pay your lodge" in text
    assert "Pay $1,250.00 now" in text
    assert "/pay/" in text
    application = Application.objects.get()
    assert application.reference in text


def test_the_form_and_its_decision_read_the_rules_once(fresh_lodge: Lodge) -> None:
    with CaptureQueriesContext(connection) as captured:
        response = Client().post("/apply/", valid_body(fresh_lodge.number))
    assert response.status_code == 302
    assert len(statements(captured, "grants_grantrules")) == 1


def test_errors_are_shown_again_on_the_form_with_nothing_stored(mirrored: Any) -> None:
    response = Client().post(
        "/apply/", valid_body(99998, amount_requested="abc", contact_email="not-an-email")
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "Please correct the errors below." in text
    assert "Amount requested" in text
    assert "Contact email" in text
    assert 'value="99998"' in text
    assert Application.objects.count() == 0


def test_an_unknown_lodge_is_shown_on_the_form_as_typed_with_nothing_stored(
    mirrored: Any,
) -> None:
    response = Client().post("/apply/", valid_body(99998, purpose="Winter coats"))
    assert response.status_code == 422
    text = response.content.decode()
    assert "Please correct the error below." in text
    assert "Lodge number: no lodge has number 99998." in text
    assert 'value="99998"' in text
    assert "Winter coats" in text
    assert Application.objects.count() == 0


def test_the_honeypot_stops_bots_without_storing_anything(fresh_lodge: Lodge) -> None:
    response = Client().post(
        "/apply/", {**valid_body(fresh_lodge.number), "website": "http://spam"}
    )
    assert response.status_code == 400
    assert Application.objects.count() == 0


def test_one_address_is_rate_limited(fresh_lodge: Lodge, settings: Any) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.PORTAL_APPLY_RATE_PER_HOUR = 2
    client = Client()
    for _ in range(2):
        client.post(
            "/apply/",
            valid_body(fresh_lodge.number, amount_requested="1.00", amount_raised="1.00"),
            REMOTE_ADDR="10.9.9.9",
        )
    response = client.post("/apply/", valid_body(fresh_lodge.number), REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert "Too many applications" in response.content.decode()
    cache.clear()


def test_a_tampered_status_link_is_not_found() -> None:
    assert Client().get("/status/not-a-real-token/").status_code == 404
