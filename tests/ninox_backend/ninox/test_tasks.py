"""The Django half's Celery tasks: the mirror sync (its quota guard: test_quota.py) and the
call log's pruning."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from ninox_backend.ninox.mirror import sync_status
from ninox_backend.ninox.models import NinoxCall
from ninox_backend.ninox.quota import calls_this_month
from ninox_backend.ninox.tasks import ninox_calls_prune_task, ninox_sync_task

pytestmark = pytest.mark.django_db


def test_the_task_syncs_below_the_threshold_and_its_calls_are_counted(
    settings: Any, ninox: Any
) -> None:
    settings.NINOX_MONTHLY_QUOTA = 100_000
    status = ninox_sync_task()
    assert status.startswith("ok: full, ")
    status_row = sync_status()
    assert status_row is not None
    assert status_row.last_sync_at is not None
    # Every call the sync made is in the log, so the guard sees it.
    assert calls_this_month() == ninox.emulator.calls > 0
    assert ninox_sync_task().startswith("ok: incremental, ")
    assert ninox_sync_task().startswith("ok: incremental, 0 created, 0 updated, 0 deleted, 2 call")
    assert calls_this_month() == ninox.emulator.calls


def test_the_task_reports_a_ninox_failure_instead_of_raising(settings: Any, ninox: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 100_000
    ninox.emulator.faults.configure("500=1")
    status = ninox_sync_task()
    assert status.startswith("failed: NinoxServerError: ")
    assert ninox.token not in status
    status_row = sync_status()
    assert status_row is not None
    assert "NinoxServerError" in status_row.last_error


def test_the_call_log_keeps_ninety_days(db: Any) -> None:
    now = timezone.now()
    for days in (1, 89, 91, 400):
        NinoxCall.objects.create(
            at=now - timedelta(days=days), method="GET", path_template="/teams", status=200
        )
    assert ninox_calls_prune_task() == 2
    assert NinoxCall.objects.count() == 2
