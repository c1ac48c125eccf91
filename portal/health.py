"""Stored health of the parts the portal depends on. Probes write; pages and /healthz read.

``/healthz`` must be cheap and must never call Ninox (that would spend the monthly
quota): Ninox's state comes from the last stored probe, written by a periodic task.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from portal.models import ServiceCheck

# A stored probe older than this says nothing about now. Beat stores Ninox's state every
# five minutes (the Grants sync, else the probe): two missed rounds and a minute.
STALE_AFTER = timedelta(minutes=11)


def record_check(name: str, ok: bool, detail: str = "") -> None:
    """Store the result of a probe or heartbeat (one row per name)."""
    ServiceCheck.objects.update_or_create(
        name=name, defaults={"ok": ok, "detail": detail[:500], "checked_at": timezone.now()}
    )


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def broker_state() -> str:
    """Open a connection to the Celery broker with a short timeout."""
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def stored_state(name: str, *, missing: str) -> str:
    check = ServiceCheck.objects.filter(name=name).first()
    if check is None:
        return missing
    if timezone.now() - check.checked_at > STALE_AFTER:
        return f"stale: last checked {check.checked_at:%Y-%m-%d %H:%M} UTC"
    return "ok" if check.ok else (check.detail or "failing")


# Ninox's state before the first probe: not known, which is neither working nor failing.
NOT_YET_PROBED = "not yet probed"


def ninox_state() -> str:
    return stored_state("ninox", missing=NOT_YET_PROBED)
