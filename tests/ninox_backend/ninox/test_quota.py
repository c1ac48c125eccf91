"""The monthly quota guard: background syncs pause near the quota, decisions never do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ninox_backend.ninox.mirror import sync_mirror, sync_status
from ninox_backend.ninox.models import NinoxCall
from ninox_backend.ninox.quota import (
    background_sync_allowed,
    calls_this_month,
    month_start,
    quota_state,
)
from ninox_backend.ninox.tasks import ninox_sync_task

pytestmark = pytest.mark.django_db


def log_calls(total: int, at: datetime | None = None, per_row: int = 1000) -> None:
    """Rows in the call log adding up to ``total`` attempts."""
    at = at or datetime.now(UTC)
    rows = []
    while total > 0:
        attempts = min(per_row, total)
        rows.append(
            NinoxCall(at=at, method="GET", path_template="/teams", status=200, attempts=attempts)
        )
        total -= attempts
    NinoxCall.objects.bulk_create(rows)


def test_the_month_starts_at_midnight_utc_on_the_first() -> None:
    assert month_start(datetime(2026, 7, 18, 11, 19, tzinfo=UTC)) == datetime(
        2026, 7, 1, tzinfo=UTC
    )


def test_it_counts_every_attempt_since_the_month_began_and_nothing_before() -> None:
    now = datetime(2026, 7, 18, 12, 0, tzinfo=UTC)
    log_calls(7, at=datetime(2026, 7, 1, tzinfo=UTC))
    NinoxCall.objects.create(at=now, method="GET", path_template="/teams", attempts=3)
    log_calls(500, at=datetime(2026, 7, 1, tzinfo=UTC) - timedelta(seconds=1))
    assert calls_this_month(now) == 10


def test_below_the_threshold_background_syncs_run(settings: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 100_000
    log_calls(89_999)
    state = quota_state()
    assert (state.used, state.quota, state.background_paused) == (89_999, 100_000, False)
    assert state.share == Decimal("0.89999")
    assert background_sync_allowed()
    assert state.message == "Ninox calls this month: 89,999 of 100,000 (89%)."


def test_at_the_threshold_background_syncs_pause_and_the_health_line_says_so(
    settings: Any,
) -> None:
    settings.NINOX_MONTHLY_QUOTA = 100_000
    log_calls(91_000)
    state = quota_state()
    assert state.background_paused
    assert not background_sync_allowed()
    assert state.message == (
        "Ninox calls this month: 91,000 of 100,000 (91%); background syncs are paused."
    )


def test_exactly_ninety_percent_pauses(settings: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 1000
    log_calls(900)
    assert quota_state().background_paused


def test_the_pause_share_is_a_setting(settings: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 1000
    settings.NINOX_QUOTA_PAUSE_SHARE = Decimal("0.5")
    log_calls(499)
    assert background_sync_allowed()
    log_calls(1)
    assert not background_sync_allowed()


def test_the_task_skips_at_the_threshold_without_calling_ninox(settings: Any, ninox: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 1000
    log_calls(950)
    ninox.emulator.calls = 0
    status = ninox_sync_task.delay().get()
    assert status.startswith("skipped: Ninox calls this month: 950 of 1,000 (95%)")
    assert ninox.emulator.calls == 0
    assert sync_status() is None


def test_decisions_still_sync_at_the_threshold(settings: Any, ninox: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 1000
    log_calls(990)
    # The decision path calls sync_mirror directly; the guard does not stand in its way.
    result = sync_mirror()
    assert result.full
    assert result.created > 0
    assert ninox.emulator.calls > 0
