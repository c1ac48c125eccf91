"""The drift check on a schedule (beat, hourly) and on the health page's button."""

from __future__ import annotations

from celery import shared_task

from grants.drift import drift_check


@shared_task
def drift_check_task(read_now: bool = False) -> str:
    """Compare the mirror's FY totals with Ninox's own sums; returns what it found.

    ``read_now`` (the health page's button): on the workspace API, read Grants whole now
    (its full read is the comparison); beat's hourly run keeps the last full read's result.
    """
    return str(drift_check(read_now=read_now))
