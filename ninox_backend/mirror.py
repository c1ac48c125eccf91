"""Keeping the portal's mirror of Ninox fresh: handlers registered by apps, state in the database.

Apps register a handler factory per mapped table (``grants`` registers lodges and
grants); ``sync_mirror`` runs the generic engine with them. One incremental run
with nothing new costs one Ninox call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.utils import timezone

from . import connection
from .exceptions import NinoxError
from .models import SyncState as SyncStateRow
from .sync import Handler, SyncEngine, SyncProgress, SyncResult, SyncState

HandlerFactory = Callable[[], Handler]

_handlers: dict[str, HandlerFactory] = {}
# One sync at a time per process; handlers are idempotent, so two processes may overlap safely.
_sync_lock = threading.Lock()


def register_handler(mapping_key: str, factory: HandlerFactory) -> None:
    """Mirror the table the mapping calls ``mapping_key`` with handlers from ``factory``."""
    _handlers[mapping_key] = factory


def registered() -> dict[str, HandlerFactory]:
    return dict(_handlers)


class DatabaseSyncStateStore:
    """The engine's state in the ``SyncState`` table."""

    def get(self, key: str) -> SyncState:
        row = SyncStateRow.objects.filter(key=key).first()
        if row is None:
            return SyncState()
        state = SyncState.from_json(row.data)
        state.high_water = row.high_water
        return state

    def set(self, key: str, state: SyncState) -> None:
        SyncStateRow.objects.update_or_create(
            key=key, defaults={"high_water": state.high_water, "data": state.to_json()}
        )


def state_key() -> str:
    db = connection.database()
    return f"ninox:{db.team_id}/{db.id}"


def sync_mirror(
    *, full: bool = False, progress: Callable[[SyncProgress], None] | None = None
) -> SyncResult:
    """Bring the mirror up to date. Raises ``NinoxError`` when Ninox fails (recorded too)."""
    mapping = connection.mapping()
    handlers = {mapping[key].name: factory() for key, factory in _handlers.items()}
    engine = SyncEngine(
        connection.database(),
        DatabaseSyncStateStore(),
        handlers,
        key=state_key(),
        progress=progress,
        estimate_totals=progress is not None,
    )
    with _sync_lock:
        try:
            # No transaction around it: that would hold the database lock across network calls.
            # Handlers are idempotent and the mark is stored last, so a failed run is re-run.
            result = engine.sync(full=full)
        except NinoxError as exc:
            SyncStateRow.objects.update_or_create(
                key=state_key(),
                defaults={
                    "last_error": f"{type(exc).__name__}: {exc}"[:500],
                    "last_error_at": timezone.now(),
                },
            )
            raise
    now = timezone.now()
    updates = {"last_sync_at": now, "last_error": ""}
    if result.full:
        updates["last_full_sync_at"] = now
    SyncStateRow.objects.filter(key=state_key()).update(**updates)
    return result


def sync_status() -> SyncStateRow | None:
    """The stored state of the mirror (last sync, high-water mark, last error)."""
    return SyncStateRow.objects.filter(key=state_key()).first()
