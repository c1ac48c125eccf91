from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ninox_backend.ninox.models import NinoxCall
from portal.tasks import heartbeat_task, ninox_probe_task

pytestmark = pytest.mark.django_db


def test_the_probe_stores_ninox_as_reachable_and_logs_the_call(ninox: Any) -> None:
    assert ninox_probe_task() == "ok"
    assert Client().get("/healthz").json()["ninox"] == "ok"
    call = NinoxCall.objects.get()
    assert call.status == 200
    assert call.path_template == "/teams/{team}"


def test_the_probe_spends_no_call_right_after_a_successful_one(ninox: Any) -> None:
    ninox_probe_task()
    calls = ninox.emulator.calls
    assert ninox_probe_task() == "ok (recent call)"
    assert ninox.emulator.calls == calls


def test_the_probe_stores_the_error_when_ninox_fails(ninox: Any) -> None:
    ninox.emulator.faults.configure("503=1")
    assert ninox_probe_task() == "down"
    state = Client().get("/healthz").json()["ninox"]
    assert state.startswith("NinoxServerError")


def test_the_worker_heartbeat_shows_on_the_health_page(reviewer: Any) -> None:
    heartbeat_task()
    client = Client()
    client.force_login(reviewer)
    page = client.get("/health/").content.decode()
    assert '<th scope="row">Background worker</th>' in page
    assert "The background worker is not running" not in page


def test_the_probe_spends_nothing_once_the_quota_guard_pauses_background_work(
    ninox: Any, settings: Any
) -> None:
    from django.utils import timezone

    settings.NINOX_MONTHLY_QUOTA = 10
    NinoxCall.objects.create(
        at=timezone.now(), method="GET", path_template="/teams", status=200, attempts=9
    )
    calls = ninox.emulator.calls
    assert ninox_probe_task() == "skipped (quota)"
    assert ninox.emulator.calls == calls
