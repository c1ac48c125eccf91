"""Admin actions from the health page: retry failed outbox rows, ask for a Ninox sync now."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from grants import outbox
from grants.models import OutboxMessage
from portal.audit import audit_record


@transaction.atomic
def outbox_retry(*, outbox_ids: Iterable[int] | None = None, actor: Any) -> int:
    """Put failed rows back to pending, due now, with a fresh round of attempts.

    ``outbox_ids=None`` means every failed row. Returns how many rows were put back.
    """
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
    if outbox_ids is not None:
        failed = failed.filter(id__in=list(outbox_ids))
    ids = list(failed.values_list("id", flat=True))
    # Conditional on "failed": a row another admin already retried is left alone.
    changed = OutboxMessage.objects.filter(id__in=ids, status=OutboxMessage.Status.FAILED).update(
        status=OutboxMessage.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        done_at=None,
    )
    if changed:
        audit_record(
            actor=actor,
            action="outbox.retried",
            object_type="grants.outboxmessage",
            object_id=",".join(str(i) for i in ids)[:80],
            object_label=f"{changed} failed row(s)",
            after={"ids": ids, "status": "pending"},
        )
        for outbox_id in ids:
            transaction.on_commit(lambda outbox_id=outbox_id: outbox.dispatch(outbox_id))  # type: ignore[misc]
    return changed


def ninox_sync_request(*, actor: Any) -> None:
    """Queue a mirror sync now (the worker runs it, under the quota guard like beat's)."""
    from ninox_backend.ninox.tasks import ninox_sync_task

    audit_record(actor=actor, action="ninox.sync_requested", object_type="ninox_backend.sync")
    transaction.on_commit(ninox_sync_task.delay)


def drift_check_request(*, actor: Any) -> None:
    """Queue the drift check now (the worker runs it; the health page shows what it found)."""
    from grants.drift_tasks import drift_check_task

    audit_record(actor=actor, action="ninox.drift_check_requested", object_type="grants.drift")
    transaction.on_commit(lambda: drift_check_task.delay(read_now=True))
