"""The projected monthly Ninox calls on the health page, from the last days' call log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from grants.ninox_usage import projected_monthly_calls
from ninox_backend.ninox.models import NinoxCall

pytestmark = pytest.mark.django_db


def log_calls(hours_ago: float, attempts: int = 1) -> None:
    NinoxCall.objects.create(
        at=timezone.now() - timedelta(hours=hours_ago),
        method="GET",
        path_template="/teams/{team}/databases/{db}/tables/{table}/records",
        status=200,
        attempts=attempts,
    )


def test_it_projects_nothing_without_a_day_of_history(reviewer: Any) -> None:
    log_calls(hours_ago=20, attempts=500)  # a first load's burst is not a trend
    log_calls(hours_ago=0.1, attempts=50)
    assert projected_monthly_calls().monthly is None
    client = Client()
    client.force_login(reviewer)
    assert "not enough call history yet" in client.get("/health/").content.decode()


def test_it_scales_the_last_three_days_to_thirty() -> None:
    log_calls(hours_ago=200, attempts=10_000)  # older than the window: not counted
    for hour in range(72):
        log_calls(hours_ago=hour + 0.5, attempts=15)  # 15 calls an hour

    projection = projected_monthly_calls()

    assert projection.calls == 72 * 15
    assert projection.monthly == 15 * 24 * 30
    assert not projection.over_quota


def test_a_young_log_is_scaled_from_its_own_age(settings: Any) -> None:
    settings.NINOX_MONTHLY_QUOTA = 1000
    log_calls(hours_ago=48, attempts=1)
    log_calls(hours_ago=1, attempts=99)

    projection = projected_monthly_calls()

    assert projection.monthly is not None
    assert 1490 <= projection.monthly <= 1510  # 100 calls in 2 days
    assert projection.over_quota


def test_the_health_page_shows_the_projection_against_the_quota(
    reviewer: Any, settings: Any
) -> None:
    settings.NINOX_MONTHLY_QUOTA = 12_000
    log_calls(hours_ago=100)  # the log is older than the window
    for hour in range(72):
        log_calls(hours_ago=hour + 0.5, attempts=10)
    client = Client()
    client.force_login(reviewer)

    page = client.get("/health/").content.decode()

    assert "about 7,200 calls a month of the quota of 12,000 (60%)" in page
    assert "from 720 call(s) in the last 3 day(s)" in page
