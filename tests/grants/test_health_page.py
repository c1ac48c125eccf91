"""The health page: Ninox, outbox, Stripe and workers panels; admin-only buttons."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grants.health_tasks import ninox_schema_check
from grants.models import OutboxMessage, WebhookEvent
from ninox_backend.ninox.mirror import state_key, sync_status
from ninox_backend.ninox.models import NinoxCall, SyncState
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
    assert "working (Ninox answers)" in page
    assert "not working" not in page
    high_water = sync_status().high_water  # type: ignore[union-attr]
    assert f"Ninox's changes read up to number {high_water}" in page
    assert "high-water" not in page
    assert "Ninox calls this month:" in page
    mirrored.emulator.faults.configure("503=1")
    ninox_probe_task()
    page = client.get("/health/").content.decode()
    assert "not working:" in page
    assert "<td>503</td>" in page  # the failing calls are listed as recent errors
    assert "The Ninox connection is not working" in page  # and in the banner
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
    assert "The scheduler is not running (its heartbeat is late)." in page
    assert "background worker is not running" not in page


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
    assert "every table is read whole every hour" in page  # NINOX_WORKSPACE_FULL_READ_MINUTES
    # the schema hourly; 2 pages of 120 lodges and 15 of 1,500 grants every hour
    assert "about 18 call(s) an idle hour, 13,392 a month, against the plan's 100,000" in page
    assert "(<code>NINOX_MONTHLY_QUOTA</code>: 13%)" in page


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_idle_budget_follows_the_full_read_interval(
    mirrored: Any, reviewer: Any, ninox_dialect: str, settings: Any
) -> None:
    settings.NINOX_WORKSPACE_FULL_READ_MINUTES = 180
    page = client_for(reviewer).get("/health/").content.decode()
    assert "every table is read whole every 3 hours" in page
    assert "about 7 call(s) an idle hour, 5,208 a month" in page  # the schema, 17 pages / 3


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_last_sync_names_the_full_reads_not_a_sequence(
    mirrored: Any, reviewer: Any, ninox_dialect: str
) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "read up to number" not in page  # no change sequence on this API
    last = re.search(
        r"last full read at ([^,]+, \d{4}, (\d\d):(\d\d)), next at [^,]+, \d{4}, "
        r"(\d\d):(\d\d); this API has no change sequence",
        page,
    )
    assert last is not None, page
    hour, minute, next_hour, next_minute = (int(last.group(i)) for i in (2, 3, 4, 5))
    assert (next_hour - hour) % 24 == 1
    assert next_minute == minute


def test_on_the_classic_api_the_last_sync_names_the_change_sequence(
    mirrored: Any, reviewer: Any
) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "(Ninox's changes read up to number " in page
    assert "last full read at" not in page


def test_on_the_classic_api_the_ninox_panel_shows_no_workspace_budget(
    mirrored: Any, reviewer: Any
) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Idle budget" not in page


def banner(page: str) -> str:
    """The banner's section of the health page."""
    match = re.search(r'<section class="health-banner.*?</section>', page, re.S)
    assert match is not None, "the health page has no banner"
    return match.group(0)


def all_quiet() -> None:
    """A working portal: fresh heartbeats and a fresh Ninox check, nothing failed."""
    heartbeat_task()
    record_check("beat", ok=True)
    record_check("ninox", ok=True)


def test_the_banner_says_all_systems_working_when_nothing_needs_attention(
    reviewer: Any,
) -> None:
    all_quiet()
    page = client_for(reviewer).get("/health/").content.decode()
    assert "All systems working" in banner(page)
    assert "need attention" not in page
    assert "needs attention" not in page


def test_right_after_a_start_ninox_is_not_checked_yet_rather_than_not_working(
    reviewer: Any,
) -> None:
    all_quiet()
    ServiceCheck.objects.filter(name="ninox").delete()  # the first probe has not run
    page = client_for(reviewer).get("/health/").content.decode()
    text = banner(page)
    assert "Nothing needs attention so far" in text
    assert "health-banner-pending" in text
    assert '<a href="#h-ninox">The Ninox connection has not been checked yet.</a>' in text
    assert "not working" not in page
    assert "not checked yet" in page
    # A real problem elsewhere is counted; the unchecked part stays listed apart.
    failed_row(1)
    text = banner(client_for(reviewer).get("/health/").content.decode())
    assert "1 thing needs attention" in text
    assert "Not checked yet (right after a start):" in text


def test_the_banner_counts_one_thing_and_links_it_to_its_panel_with_what_to_do(
    reviewer: Any,
) -> None:
    all_quiet()
    failed_row(1)
    failed_row(2)
    text = banner(client_for(reviewer).get("/health/").content.decode())
    assert "1 thing needs attention" in text
    assert '<a href="#h-outbox">2 email(s) or Ninox write-back(s) failed' in text
    assert "fix its cause, then press" in text
    assert "All systems working" not in text


def test_the_banner_counts_each_problem_across_panels(reviewer: Any) -> None:
    all_quiet()
    ServiceCheck.objects.filter(name="worker").delete()
    record_check("ninox", ok=False, detail="NinoxServerError: 503")
    failed_row(1)
    PaymentFactory.create(orphan=True, stripe_session_id="cs_lost", amount=Decimal("75.00"))
    text = banner(client_for(reviewer).get("/health/").content.decode())
    assert "4 things need attention" in text
    anchors = re.findall(r'<a href="#(h-[a-z]+)">', text)
    assert anchors == ["h-ninox", "h-outbox", "h-stripe", "h-workers"]
    assert "The background worker is not running (no heartbeat yet)." in text
    assert "celery -A portal worker" in text
    assert "1 Stripe payment(s) are flagged for finance." in text


def test_the_banner_names_a_broken_database_first(
    reviewer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    all_quiet()
    monkeypatch.setattr("portal.health.database_state", lambda: "unreachable: OperationalError")
    text = banner(client_for(reviewer).get("/health/").content.decode())
    assert "1 thing needs attention" in text
    assert '<a href="#h-parts">The database is not answering' in text


def test_a_ninox_error_shows_resolved_once_a_later_call_to_the_same_place_succeeds(
    reviewer: Any,
) -> None:
    all_quiet()
    now = timezone.now()
    NinoxCall.objects.create(
        at=now - timedelta(minutes=30), method="GET", path_template="/tables/A/records", status=503
    )
    NinoxCall.objects.create(
        at=now - timedelta(minutes=20), method="GET", path_template="/tables/B/records", status=429
    )
    NinoxCall.objects.create(
        at=now - timedelta(minutes=10), method="GET", path_template="/tables/A/records", status=200
    )
    NinoxCall.objects.create(
        at=now - timedelta(minutes=40), method="GET", path_template="/tables/B/records", status=200
    )
    page = client_for(reviewer).get("/health/").content.decode()
    rows = {
        status: row
        for row in re.findall(r"<tr><td>.*?</tr>", page)
        for status in ("503", "429")
        if f"<td>{status}</td>" in row
    }
    assert "Resolved: succeeded at" in rows["503"]
    assert "Not yet" in rows["429"]  # its only success came before the error


def test_a_sync_error_shows_resolved_after_a_later_sync_and_needs_no_attention(
    reviewer: Any,
) -> None:
    all_quiet()
    now = timezone.now()
    state = SyncState.objects.create(
        key=state_key(),
        last_sync_at=now - timedelta(minutes=5),
        last_error="NinoxServerError: 503",
        last_error_at=now - timedelta(minutes=20),
    )
    page = client_for(reviewer).get("/health/").content.decode()
    assert "resolved: an error at" in page
    assert "All systems working" in banner(page)
    state.last_error_at = now
    state.save()
    page = client_for(reviewer).get("/health/").content.decode()
    assert "failing since" in page
    assert "The last sync from Ninox failed: NinoxServerError: 503" in banner(page)
