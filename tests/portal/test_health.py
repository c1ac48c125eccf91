from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from portal.health import record_check
from portal.models import ServiceCheck

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_part_without_signing_in() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["ninox"] == "not yet probed"


def test_healthz_reads_ninox_from_the_stored_probe() -> None:
    record_check("ninox", ok=False, detail="NinoxUnavailable: connection refused")
    assert Client().get("/healthz").json()["ninox"] == "NinoxUnavailable: connection refused"
    record_check("ninox", ok=True)
    assert Client().get("/healthz").json()["ninox"] == "ok"


def test_a_stale_probe_is_reported_as_stale() -> None:
    record_check("ninox", ok=True)
    ServiceCheck.objects.update(checked_at=timezone.now() - timedelta(minutes=30))
    assert Client().get("/healthz").json()["ninox"].startswith("stale")


def test_healthz_answers_503_when_the_database_is_down(monkeypatch: Any) -> None:
    from portal import health

    monkeypatch.setattr(health, "database_state", lambda: "unreachable: OperationalError")
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable: OperationalError"
