"""The audit log page: filters by actor, action, object and date; CSV export; fixed queries."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.audit import audit_record
from portal.models import AuditEvent
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(admin_user: Any, reviewer: Any) -> None:
    audit_record(
        actor=reviewer,
        action="application.approved",
        object_type="grants.application",
        object_id="MG-2026-00001",
        object_label="MG-2026-00001",
    )
    audit_record(
        actor=reviewer,
        action="application.rejected",
        object_type="grants.application",
        object_id="MG-2026-00002",
        object_label="MG-2026-00002",
    )
    audit_record(
        actor="webhook",
        action="payment.paid",
        object_type="grants.payment",
        object_id="cs_1",
        before={"status": "open"},
        after={"status": "paid"},
    )
    audit_record(actor=admin_user, action="user.deactivated", obj=reviewer)


def row(action: str) -> str:
    """An event's row, found by the recorded action in its details."""
    return f"<dd><code>{action}</code></dd>"


def rows_of(response: Any) -> list[dict[str, str]]:
    raw = b"".join(response.streaming_content).decode("utf-8")
    assert raw.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(raw.lstrip("\ufeff"))))


def test_the_audit_log_filters_by_actor_action_object_and_date(
    events: None, admin_user: Any
) -> None:
    client = client_for(admin_user)
    by_actor = client.get("/manage/audit/", {"actor": "rita"}).content.decode()
    assert row("application.approved") in by_actor
    assert row("payment.paid") not in by_actor
    by_action = client.get("/manage/audit/", {"action": "application."}).content.decode()
    assert "MG-2026-00002" in by_action
    assert row("user.deactivated") not in by_action
    by_object = client.get("/manage/audit/", {"object": "cs_1"}).content.decode()
    assert row("payment.paid") in by_object
    assert row("application.approved") not in by_object
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    later = client.get("/manage/audit/", {"date_from": tomorrow}).content.decode()
    assert "0 events" in later
    bad = client.get(
        "/manage/audit/",
        {"date_to": "yesterday"},
        headers={"HX-Request": "true", "HX-Target": "results"},
    )
    assert bad.status_code == 422
    assert "To: enter a date like 2026-05-01." in bad.content.decode()


def test_the_audit_log_exports_the_filtered_events_as_csv(events: None, admin_user: Any) -> None:
    response = client_for(admin_user).get("/manage/audit/", {"actor": "webhook", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    [row] = rows_of(response)
    assert row["Action"] == "payment.paid"
    assert row["Before"] == '{"status": "open"}'
    assert row["After"] == '{"status": "paid"}'
    everything = rows_of(client_for(admin_user).get("/manage/audit/", {"format": "csv"}))
    assert len(everything) == AuditEvent.objects.count()


def test_the_audit_log_is_for_admins_and_makes_a_fixed_number_of_queries(
    events: None, admin_user: Any, finance: Any, reviewer: Any
) -> None:
    assert client_for(finance).get("/manage/audit/").status_code == 403
    client = client_for(admin_user)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/manage/audit/").status_code == 200
        counts.append(len(captured))
        for i in range(30):
            audit_record(actor=reviewer, action="application.viewed", object_id=f"MG-{i}")
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "username",
    [
        "=cmd|' /C calc'!A0",
        '=HYPERLINK("http://x","y")',
        "+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
    ],
)
def test_a_login_username_cannot_poison_the_audit_csv_with_a_formula(
    admin_user: Any, username: str
) -> None:
    failed = Client().post("/login/", {"username": username, "password": "wrong"})
    assert failed.status_code == 200  # the form again, with its error
    rows = rows_of(
        client_for(admin_user).get(
            "/manage/audit/", {"action": "auth.login_failed", "format": "csv"}
        )
    )
    stored = username.strip()  # the login form strips surrounding whitespace
    assert [(r["Actor"], r["Object id"], r["Object"]) for r in rows] == [
        ("anonymous", "'" + stored, "'" + stored)
    ]


def test_the_last_date_there_is_as_the_end_of_the_range_finds_every_event(
    events: None, admin_user: Any
) -> None:
    page = client_for(admin_user).get("/manage/audit/", {"date_to": "9999-12-31"})
    assert page.status_code == 200
    assert f"{AuditEvent.objects.count()} events" in page.content.decode()
