"""The grants' Celery tasks: thin, they take ids and call the outbox or a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from grants import outbox


@shared_task(time_limit=outbox.TASK_TIME_LIMIT, soft_time_limit=outbox.TASK_TIME_LIMIT - 30)
def outbox_deliver_task(outbox_id: int) -> str:
    """Carry out one outbox row (claimed first, so a duplicate task does nothing)."""
    return outbox.outbox_deliver(outbox_id)


@shared_task
def outbox_sweep_task(stuck_seconds: float | None = None, lost_seconds: float | None = None) -> int:
    """Send again the outbox rows whose task was lost or whose worker died.

    The thresholds default to the outbox's; a caller that knows when a worker died
    (a test, an operator) may pass shorter ones.
    """
    return outbox.outbox_sweep(
        stuck_after=outbox.STUCK_AFTER
        if stuck_seconds is None
        else timedelta(seconds=stuck_seconds),
        lost_after=outbox.LOST_AFTER if lost_seconds is None else timedelta(seconds=lost_seconds),
    )


@shared_task
def payments_expire_task() -> int:
    """Expire approved applications whose payment link ran out; returns how many. Then close
    the checkout sessions left open for applications that no longer wait for a payment."""
    from grants.services.payments import applications_expire_due, checkout_sessions_left_open_close

    expired = applications_expire_due()
    checkout_sessions_left_open_close()
    return expired


@shared_task
def digest_task() -> str:
    """Queue the reviewers' daily digest when it is the rules' digest hour (once a day)."""
    from grants.services.emails import digest_enqueue

    return digest_enqueue()
