"""The health page: Ninox, outbox, Stripe and workers panels; admin-only buttons."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grants.health_tasks import ninox_schema_check
from grants.models import OutboxMessage, WebhookEvent
from ninox_backend.ninox.mirror import sync_status
from portal.health import record_check
from portal.models import AuditEvent, ServiceCheck
from portal.tasks import heartbeat_task, ninox_probe_task
from tests.conftest import client_for
from tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def failed_row(n: int, error: str = "SMTPException: mailbox full") -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.EMAIL_VENDOR,
        dedupe_key=f"test:{n}",
        status=OutboxMessage.Status.FAILED,
        attempts=8,
        last_error=error,
        next_attempt_at=timezone.now(),
    )


def test_the_ninox_panel_shows_connected_then_the_error_when_ninox_stops(
    mirrored: Any, reviewer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("portal.tasks.PROBE_QUIET_PERIOD", timedelta(0))
    ninox_probe_task()
    client = client_for(reviewer)
    page = client.get("/health/").content.decode()
    assert "reachable" in page
    assert "not reachable" not in page
    high_water = sync_status().high_water  # type: ignore[union-attr]
    assert f"high-water mark {high_water}" in page
    assert "Ninox calls this month:" in page
    mirrored.emulator.faults.configure("503=1")
    ninox_probe_task()
    page = client.get("/health/").content.decode()
    assert "not reachable:" in page
    assert "<td>503</td>" in page  # the failing calls are listed as recent errors
    assert "Sync now" not in page  # a reviewer reads; only admins act


def test_the_schema_check_result_is_stored_and_shown(
    ninox: Any, reviewer: Any, settings: Any
) -> None:
    assert ninox_schema_check() == "ok"
    assert (
        "the mapping matches the live schema"
        in client_for(reviewer).get("/health/").content.decode()
    )
    schema = {**settings.NINOX_SCHEMA}
    schema["grants"] = {
        **schema["grants"],
        "fields": {**schema["grants"]["fields"], "region": ("Region", "text")},
    }
    settings.NINOX_SCHEMA = schema
    result = ninox_schema_check()
    assert "1 problem(s)" in result
    assert "Region" in client_for(reviewer).get("/health/").content.decode()


def test_sync_now_queues_a_sync_for_admins_only(
    mirrored: Any, admin_user: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert client_for(reviewer).post("/manage/ninox/sync/").status_code == 403
    before = sync_status().last_sync_at  # type: ignore[union-attr]
    admin = client_for(admin_user)
    assert "Sync now" in admin.get("/health/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/manage/ninox/sync/")
    assert response.status_code == 302
    assert sync_status().last_sync_at > before  # type: ignore[union-attr, operator]
    assert AuditEvent.objects.filter(action="ninox.sync_requested").exists()


def test_outbox_counts_failed_rows_and_retry_per_row_and_for_all(
    admin_user: Any,
    reviewer: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr("grants.outbox.dispatch", lambda outbox_id, **kw: sent.append(outbox_id))
    one, two, three = failed_row(1), failed_row(2), failed_row(3, "NinoxServerError: 503")
    OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.NINOX_WRITE_BACK, dedupe_key="p", next_attempt_at=timezone.now()
    )
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Failed (3)" in page
    assert "SMTPException: mailbox full" in page
    assert "Retry all failed" not in page
    assert client_for(reviewer).post(f"/manage/outbox/{one.id}/retry/").status_code == 403
    admin = client_for(admin_user)
    assert "Retry all failed" in admin.get("/health/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/manage/outbox/{one.id}/retry/")
    one.refresh_from_db()
    assert (one.status, one.attempts) == ("pending", 0)
    assert sent == [one.id]
    with django_capture_on_commit_callbacks(execute=True):
        admin.post("/manage/outbox/retry-failed/")
    assert sorted(sent[1:]) == sorted([two.id, three.id])
    assert not OutboxMessage.objects.filter(status="failed").exists()
    assert AuditEvent.objects.filter(action="outbox.retried").count() == 2


def test_the_stripe_panel_shows_the_last_webhook_and_flagged_payments(reviewer: Any) -> None:
    WebhookEvent.objects.create(
        stripe_event_id="evt_1", type="checkout.session.completed", result="paid"
    )
    WebhookEvent.objects.create(
        stripe_event_id="evt_2", type="checkout.session.completed", result="ignored: no session id"
    )
    PaymentFactory.create(orphan=True, stripe_session_id="cs_lost", amount=Decimal("75.00"))
    page = client_for(reviewer).get("/health/").content.decode()
    assert "evt_2" in page
    assert "ignored: no session id" in page
    assert "cs_lost" in page
    assert "$75.00" in page


def test_workers_warn_when_a_heartbeat_is_older_than_five_minutes(reviewer: Any) -> None:
    heartbeat_task()
    record_check("beat", ok=True)
    ServiceCheck.objects.filter(name="beat").update(
        checked_at=timezone.now() - timedelta(minutes=7)
    )
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Warning: no heartbeat for 7" in page
    assert "celery -A portal beat" in page
    assert page.count("Warning:") == 1


def test_the_health_page_makes_a_fixed_number_of_queries(admin_user: Any) -> None:
    client = client_for(admin_user)
    counts = []
    for step in range(2):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/health/").status_code == 200
        counts.append(len(captured))
        for i in range(5):
            failed_row(step * 10 + i)
    assert counts[0] == counts[1]


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_ninox_panel_shows_the_idle_budget(
    mirrored: Any, reviewer: Any, ninox_dialect: str
) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "every table is read whole every 3 hours" in page  # NINOX_WORKSPACE_FULL_READ_MINUTES
    # the schema hourly; 2 pages of 120 lodges and 15 of 1,500 grants every 3 hours
    assert "about 7 call(s) an idle hour" in page
    assert f"{7 * 24 * 31} a month" in page


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_idle_budget_follows_the_full_read_interval(
    mirrored: Any, reviewer: Any, ninox_dialect: str, settings: Any
) -> None:
    settings.NINOX_WORKSPACE_FULL_READ_MINUTES = 60
    page = client_for(reviewer).get("/health/").content.decode()
    assert "every table is read whole every hour" in page
    assert "about 18 call(s) an idle hour" in page  # the schema, 2 + 15 pages every hour


def test_on_the_classic_api_the_ninox_panel_shows_no_workspace_budget(
    mirrored: Any, reviewer: Any
) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Idle budget" not in page
