"""The outbox: side effects written with the change that causes them, carried out after commit.

A service calls ``outbox_enqueue`` inside its transaction; the row commits with the
change, and only then is its task sent. The task claims the row with a conditional
UPDATE (pending → sending), so two deliveries of one task do the work once. Transient
errors retry with bounded backoff; permanent ones fail at once. ``outbox_sweep`` picks
up rows whose task was lost (broker down, worker killed) and sends them again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from grants.models import Application, OutboxMessage

logger = logging.getLogger("grants.outbox")

Status = OutboxMessage.Status

MAX_ATTEMPTS = 8
BASE_DELAY = 5.0  # seconds before the second attempt
MAX_DELAY = 300.0
# All retries of a row fit in about ten minutes: far below the broker's visibility
# timeout (an hour), so the broker never redelivers a task that is merely waiting.
TASK_TIME_LIMIT = 240  # a hard limit per attempt (write-backs take seconds)
# A row in "sending" for longer than this was claimed by a worker that died: no attempt
# runs longer than TASK_TIME_LIMIT, so it cannot still be running.
STUCK_AFTER = timedelta(seconds=2 * TASK_TIME_LIMIT)
# A pending row this late was never picked up: its task was lost on the way.
LOST_AFTER = timedelta(seconds=60)


class PermanentError(Exception):
    """Retrying cannot help (bad data, a refused address): fail the row at once."""

    permanent = True


Handler = Callable[[OutboxMessage], object]


def _handlers() -> dict[str, Handler]:
    # Imported here: the services enqueue through this module.
    from grants.services import emails
    from grants.services import write_back as write_backs

    kinds = OutboxMessage.Kind
    return {
        kinds.NINOX_WRITE_BACK: write_backs.write_back_from_outbox,
        kinds.EMAIL_DECISION: emails.email_from_outbox,
        kinds.EMAIL_VENDOR: emails.email_from_outbox,
        kinds.EMAIL_FINANCE: emails.email_from_outbox,
        kinds.EMAIL_LODGE_RECEIPT: emails.email_from_outbox,
        kinds.EMAIL_EXPIRED: emails.email_from_outbox,
        kinds.EMAIL_PAYMENT_LINK: emails.email_from_outbox,
        kinds.EMAIL_DIGEST: emails.email_from_outbox,
        kinds.EMAIL_WRITE_BACK_FAILED: emails.email_from_outbox,
        kinds.NINOX_REFUND: write_backs.write_back_from_outbox,
        kinds.EMAIL_REFUND_LODGE: emails.email_from_outbox,
        kinds.EMAIL_REFUND_VENDOR: emails.email_from_outbox,
        kinds.EMAIL_REFUND_FINANCE: emails.email_from_outbox,
        kinds.EMAIL_CANCELLED: emails.email_from_outbox,
    }


def outbox_enqueue(
    *,
    kind: str,
    dedupe_key: str,
    payload: dict[str, Any],
    application: Application | None = None,
) -> OutboxMessage | None:
    """Add an effect to the current transaction; its task is sent after the commit.

    ``dedupe_key`` names the effect: enqueuing the same key again does nothing and
    returns ``None`` (so a duplicate webhook cannot cause a second email).
    """
    try:
        with transaction.atomic():
            message = OutboxMessage.objects.create(
                kind=kind,
                dedupe_key=dedupe_key[:200],
                application=application,
                payload=payload,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None
    message_id = message.id
    transaction.on_commit(lambda: dispatch(message_id))
    return message


def outbox_delay(message: OutboxMessage, seconds: float) -> None:
    """Hold a pending row for ``seconds`` (inside its enqueuing transaction): the task sent at
    the commit finds it not yet due, and a second one is sent for when it is (the sweeper
    sends it later if that task is lost)."""
    OutboxMessage.objects.filter(id=message.id, status=Status.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=seconds)
    )
    message_id = message.id
    transaction.on_commit(lambda: dispatch(message_id, countdown=seconds))


def dispatch(outbox_id: int, *, countdown: float | None = None) -> None:
    """Send the task for a row. A broker failure is logged: the sweeper sends it later."""
    from grants.tasks import outbox_deliver_task

    try:
        outbox_deliver_task.apply_async((outbox_id,), countdown=countdown or 0)
    except Exception:
        if getattr(outbox_deliver_task.app.conf, "task_always_eager", False):
            raise  # in eager mode this is the task's own error: tests want to see it
        logger.warning("could not send outbox task %s; the sweeper will", outbox_id, exc_info=True)


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: doubling from BASE_DELAY, capped, with jitter."""
    delay = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.0)


def is_permanent(exc: BaseException) -> bool:
    flag = getattr(exc, "permanent", None)
    if isinstance(flag, bool):
        return flag
    # Missing rows and bad values will be just as missing and bad next time.
    return isinstance(exc, ObjectDoesNotExist | ValueError | TypeError | KeyError)


def outbox_deliver(outbox_id: int, *, now: datetime | None = None) -> str:
    """Carry out one row if it is due and nobody else has it; returns what happened."""
    now = now or timezone.now()
    claimed = OutboxMessage.objects.filter(
        id=outbox_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return "not due or taken"
    message = OutboxMessage.objects.get(id=outbox_id)
    try:
        _handlers()[message.kind](message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if is_permanent(exc) or message.attempts >= MAX_ATTEMPTS:
            _finish(message, Status.FAILED, error)
            logger.error("outbox %s (%s) failed: %s", message.id, message.kind, error)
            return "failed"
        delay = backoff(message.attempts)
        OutboxMessage.objects.filter(id=message.id, status=Status.SENDING).update(
            status=Status.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        logger.warning(
            "outbox %s (%s) will retry in %.0fs: %s", message.id, message.kind, delay, error
        )
        dispatch(message.id, countdown=delay)
        return "retry"
    _finish(message, Status.DONE, "")
    return "done"


def _finish(message: OutboxMessage, status: str, error: str) -> None:
    updates: dict[str, Any] = {"status": status, "done_at": timezone.now()}
    if error:
        updates["last_error"] = error
    OutboxMessage.objects.filter(id=message.id, status=Status.SENDING).update(**updates)


def outbox_sweep(
    *,
    now: datetime | None = None,
    stuck_after: timedelta = STUCK_AFTER,
    lost_after: timedelta = LOST_AFTER,
) -> int:
    """Send again the rows whose task was lost or whose worker died; returns how many."""
    now = now or timezone.now()
    revived = []
    for row in OutboxMessage.objects.filter(
        status=Status.SENDING, claimed_at__lt=now - stuck_after
    ).values("id", "claimed_at", "attempts"):
        if row["attempts"] >= MAX_ATTEMPTS:
            update: dict[str, Any] = {"status": Status.FAILED, "done_at": now}
        else:
            update = {"status": Status.PENDING, "next_attempt_at": now}
        # Conditional on the same claim: a row that finished meanwhile is left alone.
        changed = OutboxMessage.objects.filter(
            id=row["id"], status=Status.SENDING, claimed_at=row["claimed_at"]
        ).update(last_error="The worker stopped during this attempt.", **update)
        if changed and update["status"] == Status.PENDING:
            revived.append(row["id"])
    late = OutboxMessage.objects.filter(
        status=Status.PENDING, next_attempt_at__lte=now - lost_after
    ).values_list("id", flat=True)
    due = list(dict.fromkeys([*revived, *late]))
    for outbox_id in due:
        dispatch(outbox_id)
    return len(due)
