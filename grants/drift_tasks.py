"""The drift check on a schedule (beat, hourly) and on the health page's button."""

from __future__ import annotations

from celery import shared_task

from grants.drift import drift_check


@shared_task
def drift_check_task() -> str:
    """Compare the mirror's FY totals with Ninox's own sums; returns what it found."""
    return str(drift_check())
