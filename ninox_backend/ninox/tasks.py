"""Background Ninox work for Celery beat: the periodic mirror sync, under the quota guard.

Beat runs ``ninox_sync_task`` on a schedule; decisions call ``sync_mirror`` directly
and are never held back by the guard.
"""

from __future__ import annotations

import logging

from celery import shared_task

from ..exceptions import NinoxError
from .connection import is_workspace
from .mirror import sync_mirror
from .quota import quota_state

logger = logging.getLogger("ninox_backend")


@shared_task
def ninox_sync_task() -> str:
    """Bring the mirror up to date unless the monthly quota guard pauses background syncs.

    Returns a short status: ``"skipped: …"``, ``"ok: …"`` or ``"failed: …"``.
    """
    state = quota_state()
    if state.background_paused:
        logger.warning("Ninox background sync skipped: %s", state.message)
        return f"skipped: {state.message}"
    try:
        # The workspace API has no incremental read: "sync now" there is a full read.
        result = sync_mirror(full=is_workspace())
    except NinoxError as exc:
        # sync_mirror has stored the error for the health page; the next beat tries again.
        return f"failed: {type(exc).__name__}: {exc}"[:300]
    kind = "full" if result.full else "incremental"
    return (
        f"ok: {kind}, {result.created} created, {result.updated} updated, "
        f"{result.deleted} deleted, {result.calls} call(s)"
    )


# The call log feeds the quota (this month) and the health page (recent errors); older rows
# only grow the table.
CALL_LOG_DAYS = 90


@shared_task
def ninox_calls_prune_task() -> int:
    """Delete call-log rows older than ``CALL_LOG_DAYS``; returns how many went."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import NinoxCall

    deleted, _ = NinoxCall.objects.filter(
        at__lt=timezone.now() - timedelta(days=CALL_LOG_DAYS)
    ).delete()
    return deleted
