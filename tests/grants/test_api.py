from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import ProtectedError
from django.test import Client
from django.test.utils import CaptureQueriesContext

from grants.models import ApiToken, Application, Lodge, LodgeBudget
from grants.openapi import APPLICATION_OUT
from grants.services.api_tokens import api_token_create
from grants.services.submit import application_submit
from portal.models import AuditEvent
from tests.conftest import client_for
from tests.grants.conftest import as_cleaned, statements, valid_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(db: Any) -> str:
    return api_token_create(name="website")[1]


def post(token: str | None, body: Any, **headers: str) -> Any:
    extra = {"Authorization": f"Bearer {token}"} if token else {}
    extra.update(headers)
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return Client().post(
        "/api/v1/applications", data=data, content_type="application/json", headers=extra
    )


def test_an_application_within_budget_is_approved_with_the_figures(
    fresh_lodge: Lodge, token: str
) -> None:
    response = post(token, {**valid_body(fresh_lodge.number), "lodge_number": fresh_lodge.number})
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "approved"
    assert body["cap"] == "4000.00"
    assert body["used"] == "0.00"
    assert body["remaining"] == "4000.00"
    assert body["fiscal_year"].startswith("FY ")
    assert body["payment_url"].startswith("http://127.0.0.1:8000/pay/")
    assert body["reference"].startswith("MG-")


def test_get_returns_the_same_shape_with_the_current_status(fresh_lodge: Lodge, token: str) -> None:
    reference = post(token, valid_body(fresh_lodge.number)).json()["reference"]
    response = Client().get(
        f"/api/v1/applications/{reference}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["reference"] == reference
    assert set(response.json()) == set(APPLICATION_OUT["required"])


def test_no_or_a_wrong_token_gets_401(fresh_lodge: Lodge, token: str) -> None:
    assert post(None, valid_body(fresh_lodge.number)).status_code == 401
    assert post("gp_deadbeef_wrong", valid_body(fresh_lodge.number)).status_code == 401
    assert Application.objects.count() == 0


def test_a_revoked_token_is_refused(fresh_lodge: Lodge) -> None:
    from grants.services.api_tokens import api_token_revoke

    row, value = api_token_create(name="old site")
    api_token_revoke(token=row, actor="test")
    assert post(value, valid_body(fresh_lodge.number)).status_code == 401


def test_invalid_input_gets_400_naming_each_field_and_stores_nothing(
    mirrored: Any, token: str
) -> None:
    response = post(
        token, valid_body(12, amount_requested="1e3", amount_raised="-5", contact_email="a@b")
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"amount_requested", "amount_raised", "contact_email"} <= set(errors)
    assert Application.objects.count() == 0


def test_the_api_refuses_form_style_amounts(fresh_lodge: Lodge, token: str) -> None:
    response = post(token, valid_body(fresh_lodge.number, amount_raised="$1,250.00"))
    assert response.status_code == 400
    assert "amount_raised" in response.json()["errors"]


def test_an_unknown_lodge_gets_400(mirrored: Any, token: str) -> None:
    response = post(token, valid_body(99998))
    assert response.status_code == 400
    assert "lodge_number" in response.json()["errors"]


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"amount_raised": NaN}', "\xff"])
def test_a_body_that_is_not_a_json_object_gets_400(raw: str, mirrored: Any, token: str) -> None:
    response = post(token, raw.encode("latin-1"))
    assert response.status_code == 400
    assert response.json()["message"]


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first_reply(
    fresh_lodge: Lodge, token: str
) -> None:
    body = valid_body(fresh_lodge.number)
    first = post(token, body, **{"Idempotency-Key": "abc-1"})
    second = post(token, body, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Application.objects.count() == 1
    other = post(token, {**body, "purpose": "Different"}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 422


def test_the_openapi_document_describes_the_api() -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/applications" in doc["paths"]


def test_create_api_token_prints_the_token_alone_on_the_last_line(db: Any, capsys: Any) -> None:
    call_command("create_api_token", "website")
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line.startswith("gp_")
    from grants.services.api_tokens import authenticate

    assert authenticate(f"Bearer {last_line}") is not None


@pytest.mark.parametrize("depth", [10_000, 33])
def test_a_body_nested_too_deep_gets_400_with_a_message(
    depth: int, mirrored: Any, token: str
) -> None:
    response = post(token, "[" * depth + "]" * depth)
    assert response.status_code == 400
    assert "levels deep" in response.json()["message"]
    assert Application.objects.count() == 0


def test_an_application_from_the_web_form_answers_404_to_any_token(
    fresh_lodge: Lodge, token: str
) -> None:
    web = application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")
    assert web.payment_token  # approved: it has a payment link worth hiding
    response = Client().get(
        f"/api/v1/applications/{web.reference}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404
    assert web.payment_token not in response.content.decode()
    assert "payment_url" not in response.json()


def test_an_api_application_records_its_token_for_the_audit_trail(
    fresh_lodge: Lodge, token: str, reviewer: Any
) -> None:
    reference = post(token, valid_body(fresh_lodge.number)).json()["reference"]
    website = ApiToken.objects.get()
    application = Application.objects.get(reference=reference)
    assert application.api_token == website
    event = AuditEvent.objects.get(action="application.submitted", object_id=reference)
    assert event.after == {"source": "api", "api_token": str(website)}
    page = client_for(reviewer).get(f"/applications/{reference}/").content.decode()
    assert f"Through the API with token {website}." in page
    assert token not in page  # the prefix names the token; the secret never shows


def test_a_token_that_created_applications_cannot_be_deleted(
    fresh_lodge: Lodge, token: str
) -> None:
    post(token, valid_body(fresh_lodge.number))
    with pytest.raises(ProtectedError):
        ApiToken.objects.get().delete()


def test_an_api_decision_takes_one_statement_for_each_step(fresh_lodge: Lodge, token: str) -> None:
    """Under a burst every statement is a wait for the database and the interpreter: the
    form and the decision share one read of the rules, the lock row is taken (made, the
    first time) by one statement, a lodge with nothing to doubt costs one query, and the
    application is inserted already decided."""
    for _ in range(2):  # the lodge's first decision of the year makes its lock row
        with CaptureQueriesContext(connection) as captured:
            response = post(token, valid_body(fresh_lodge.number, amount_requested="25.00"))
        assert response.status_code == 201
        assert len(statements(captured, "grants_grantrules")) == 1
        assert len(statements(captured, "grants_lodgebudget")) == 1
        doubts = [
            q
            for q in captured.captured_queries
            if "ninoxquarantine" in q["sql"] or "drift" in q["sql"]
        ]
        assert len(doubts) == 1
        assert len(statements(captured, "grants_application", "INSERT")) == 1
        assert statements(captured, "grants_application", "UPDATE") == []
    assert LodgeBudget.objects.get(lodge=fresh_lodge).decisions == 2
