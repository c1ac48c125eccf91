"""What an idle portal costs in Ninox calls: beat's schedule run against a simulated clock.

The schedule (``CELERY_BEAT_SCHEDULE``) runs against the demo Ninox in the in-process
emulator, each entry at its due times, with Django's clock and the Ninox client's moved
to each; calls are the HTTP requests the emulator served, not tasks. Budget on the
classic API: at most 12,000 calls in a 31-day month. The workspace API (no incremental
read) costs what its hourly full read costs, shown on /health/ against the plan's quota.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings

from grants.models import Lodge, NinoxGrant
from ninox_backend.ninox.connection import client as ninox_client
from ninox_backend.ninox.mirror import sync_mirror, workspace_idle_budget
from portal.lib.simulated_beat import EntryCost, SimulatedClock, clock_installed, run_schedule
from portal.tasks import ninox_probe_task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

MONTHLY_BUDGET = 12_000
DAYS = 31
# Entries that never call Ninox. They run for a simulated day (and must cost nothing
# there); running them every minute of a month would only slow the test down.
LOCAL_ONLY = {
    "heartbeat",
    "grants-outbox-sweep",
    "grants-payments-expire",
    "grants-digest",
    "report-exports-purge",
    "ninox-calls-prune",
}
START = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def run_idle(ninox: Any, days: int, only: set[str] | None = None) -> dict[str, EntryCost]:
    clock = SimulatedClock(START)
    with clock_installed(clock, ninox_client()):
        # The first load, and the first reconciliation that follows it, are not idle cost;
        # from here each table is reconciled once every 24 hours.
        sync_mirror(full=True)
        sync_mirror()
        schedule = settings.CELERY_BEAT_SCHEDULE
        return run_schedule(
            schedule,
            clock=clock,
            until=START + timedelta(days=days),
            count=lambda: ninox.emulator.calls,
            only=only,
            tz=settings.CELERY_TIMEZONE,
        )


def summary(costs: dict[str, EntryCost]) -> dict[str, tuple[int, int]]:
    return {name: (entry.runs, entry.cost) for name, entry in costs.items()}


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_an_idle_day_of_the_whole_schedule_stays_within_a_month_budget(ninox: Any) -> None:
    day = run_idle(ninox, days=1)
    total = sum(entry.cost for entry in day.values())

    assert total * DAYS <= MONTHLY_BUDGET, summary(day)
    for name in LOCAL_ONLY:
        assert day[name].runs > 0, name
        assert day[name].cost == 0, summary(day)
    # Grants every five minutes, one call each when nothing changed; on top, the schema
    # once an hour and the daily reconciliation (every record's id, at 100 a page).
    reconcile = math.ceil(NinoxGrant.objects.count() / 100) + Lodge.objects.count() // 100 + 2
    grants, lodges = day["ninox-sync-grants"], day["ninox-sync-lodges"]
    assert grants.runs == 24 * 12
    assert lodges.runs == 24
    syncs_and_schema = grants.cost + lodges.cost + day["ninox-schema-check"].cost
    assert syncs_and_schema <= grants.runs + lodges.runs + 24 + reconcile, summary(day)
    assert day["ninox-drift-check"].cost == 24, summary(day)  # one query an hour, no drift
    # While syncs succeed, the probe spends nothing.
    assert day["ninox-probe"].cost == 0, summary(day)
    assert set(day["ninox-probe"].results) == {"ok (recent call)"}


@pytest.mark.slow
@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_an_idle_day_costs_the_hourly_full_read_and_health_shows_it(
    ninox: Any, reviewer: Any
) -> None:
    assert settings.NINOX_WORKSPACE_FULL_READ_MINUTES == 60  # the default: hourly, as issue 23
    day = run_idle(ninox, days=1)
    total = sum(entry.cost for entry in day.values())

    # No incremental read: each table whole (100-row pages, the last one saying there is no
    # more) every hour, and the schema hourly; nothing else calls Ninox while idle.
    pages = math.ceil(Lodge.objects.count() / 100) + math.ceil(NinoxGrant.objects.count() / 100)
    assert pages == 2 + 15  # the demo's 120 lodges and 1,500 grants
    assert total == 24 * (pages + 1), summary(day)
    assert total == 432, summary(day)
    assert total * DAYS == 13_392  # over the classic API's 12,000: its own budget is the quota
    assert day["ninox-drift-check"].cost == 0, summary(day)  # the full read is the comparison
    assert day["ninox-probe"].cost == 0, summary(day)
    # The health page's projection is this figure, against the plan's quota.
    assert workspace_idle_budget({"lodges": 120, "grants": 1500}) == total // 24
    page = client_for(reviewer).get("/health/").content.decode()
    assert "about 18 call(s) an idle hour, 13,392 a month, against the plan" in page
    assert "against the plan's 100,000" in page
    assert "raise <code>NINOX_WORKSPACE_FULL_READ_MINUTES</code>" not in page


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_health_says_when_the_idle_month_is_over_the_quota(
    ninox: Any, reviewer: Any, settings: Any
) -> None:
    sync_mirror(full=True)
    settings.NINOX_MONTHLY_QUOTA = 12_000
    page = client_for(reviewer).get("/health/").content.decode()
    assert "13,392 a month, against the plan's 12,000" in page
    assert "raise <code>NINOX_WORKSPACE_FULL_READ_MINUTES</code> to read less often" in page

    settings.NINOX_WORKSPACE_FULL_READ_MINUTES = 120  # a foundation stretching it
    page = client_for(reviewer).get("/health/").content.decode()
    assert "about 10 call(s) an idle hour, 7,440 a month" in page  # the schema, 17 pages / 2
    assert "to read less often" not in page


@pytest.mark.parametrize("ninox_dialect", ["docs"])
def test_an_idle_month_of_beat_costs_at_most_twelve_thousand_ninox_calls(ninox: Any) -> None:
    month = run_idle(ninox, days=DAYS, only=set(settings.CELERY_BEAT_SCHEDULE) - LOCAL_ONLY)
    total = sum(entry.cost for entry in month.values())

    assert total <= MONTHLY_BUDGET, summary(month)
    assert month["ninox-sync-grants"].runs == DAYS * 24 * 12
    assert month["ninox-probe"].cost == 0, summary(month)


def test_the_probe_calls_ninox_only_once_syncs_stop_succeeding(ninox: Any) -> None:
    from portal.tasks import ninox_mirror_task

    clock = SimulatedClock(START)
    with clock_installed(clock, ninox_client()):
        assert ninox_mirror_task(tables=["grants"]).startswith("ok")
        calls = ninox.emulator.calls
        assert ninox_probe_task() == "ok (recent call)"
        assert ninox.emulator.calls == calls
        ninox.emulator.faults.configure("503=1")
        clock.advance_to(START + timedelta(minutes=12))  # no sync has succeeded since
        assert ninox_probe_task() == "down"
        assert ninox.emulator.calls > calls
        calls = ninox.emulator.calls
        clock.advance_to(START + timedelta(minutes=14))
        assert ninox_probe_task() == "down (recent failure)"
        assert ninox.emulator.calls == calls
        clock.advance_to(START + timedelta(minutes=18))
        ninox.emulator.faults.configure("")
        assert ninox_probe_task() == "ok"


def test_a_failing_sync_stores_ninox_as_down_without_a_probe(ninox: Any) -> None:
    from django.test import Client

    from portal.tasks import ninox_mirror_task

    assert ninox_mirror_task(tables=["grants"]).startswith("ok")
    assert Client().get("/healthz").json()["ninox"] == "ok"
    ninox.emulator.faults.configure("503=1")

    assert ninox_mirror_task(tables=["grants"]).startswith("failed (down)")
    assert Client().get("/healthz").json()["ninox"].startswith("NinoxServerError")
    assert ninox_probe_task() == "down (recent failure)"


def test_a_sync_is_skipped_once_the_quota_guard_pauses_background_work(
    ninox: Any, settings: Any
) -> None:
    from django.utils import timezone

    from ninox_backend.ninox.models import NinoxCall
    from portal.tasks import ninox_mirror_task

    settings.NINOX_MONTHLY_QUOTA = 10
    NinoxCall.objects.create(
        at=timezone.now(), method="GET", path_template="/teams", status=200, attempts=9
    )
    calls = ninox.emulator.calls
    assert ninox_mirror_task(tables=["grants"]).startswith("skipped")
    assert ninox.emulator.calls == calls


def test_every_beat_entry_names_a_task_the_worker_registers() -> None:
    from portal.celery import app

    app.loader.import_default_modules()
    registered = set(app.tasks)

    missing = {
        name: entry["task"]
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if entry["task"] not in registered
    }
    assert missing == {}
