"""Keeping the portal's mirror of Ninox fresh: handlers registered by apps, state in the database.

Apps register a handler factory per mapped table (``grants`` registers lodges and
grants); ``sync_mirror`` runs the generic engine with them and with the account's
capability profile (``load_profile()``). One incremental run with nothing new
costs one Ninox call per table synced; a decision's refresh syncs only the
tables it needs (``sync_mirror(tables=["grants"])``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..sync import Handler, SyncEngine, SyncProgress, SyncResult, SyncState
from ..workspace import WorkspaceDatabase
from ..workspace_sync import WorkspaceSyncEngine
from . import connection
from .models import SyncState as SyncStateRow
from .profile_store import load_profile

logger = logging.getLogger("ninox_backend")

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
    *,
    full: bool = False,
    progress: Callable[[SyncProgress], None] | None = None,
    tables: Iterable[str] | None = None,
    where: Mapping[str, Mapping[str, Any]] | None = None,
) -> SyncResult:
    """Bring the mirror up to date; ``tables`` (mapping keys such as ``"grants"``) limits it.

    ``where`` (``{"grants": {"lodge": 17}}``, mapping keys and field keys) narrows a
    table's read to the records with those values, where that is cheaper than the
    API's incremental read: on the workspace API (no ``sinceSq``) a decision's refresh
    reads the lodge's grants in one call instead of the whole table. The classic API
    reads ``records?sinceSq=`` (one call when nothing changed) and ignores ``where``.

    Raises whatever stopped the sync (a ``NinoxError`` when Ninox failed, or any
    other exception while storing what came back), after recording it as the last
    error for the health page.
    """
    mapping = connection.mapping()
    handlers = {mapping[key].name: factory() for key, factory in _handlers.items()}
    names = [mapping[key].name for key in tables] if tables is not None else None
    db = connection.database()
    state = DatabaseSyncStateStore()
    shared: dict[str, Any] = {"key": state_key(), "profile": load_profile(), "progress": progress}
    engine: SyncEngine | WorkspaceSyncEngine
    scope: dict[str, dict[str, Any]] = {}
    if isinstance(db, WorkspaceDatabase):
        engine = WorkspaceSyncEngine(db, state, handlers, full_every=full_read_every(), **shared)
        for key, values in (where or {}).items():
            table = mapping[key]
            scope[table.name] = {table.field(k): v for k, v in values.items()}
    else:
        engine = SyncEngine(db, state, handlers, estimate_totals=progress is not None, **shared)
    with _sync_lock:
        try:
            # No transaction around it: that would hold the database lock across network calls.
            # Handlers are idempotent and the mark is stored last, so a failed run is re-run.
            if isinstance(engine, WorkspaceSyncEngine):
                result = engine.sync(full=full, tables=names, scope=scope)
            else:
                result = engine.sync(full=full, tables=names)
        except Exception as exc:
            _record_error(exc)
            raise
    now = timezone.now()
    updates = {"last_sync_at": now, "last_error": ""}
    if result.full:
        updates["last_full_sync_at"] = now
    SyncStateRow.objects.filter(key=state_key()).update(**updates)
    return result


def _record_error(exc: Exception) -> None:
    try:
        SyncStateRow.objects.update_or_create(
            key=state_key(),
            defaults={
                "last_error": f"{type(exc).__name__}: {exc}"[:500],
                "last_error_at": timezone.now(),
            },
        )
    except Exception:  # the database may be what failed; the original error is re-raised
        logger.exception("Could not record the Ninox sync error")


def sync_status() -> SyncStateRow | None:
    """The stored state of the mirror (last sync, high-water mark, last error)."""
    return SyncStateRow.objects.filter(key=state_key()).first()


def full_read_every() -> dt.timedelta:
    """How often the workspace API's sync reads each table whole (a setting, in minutes)."""
    return dt.timedelta(minutes=settings.NINOX_WORKSPACE_FULL_READ_MINUTES)


def full_read_interval() -> str:
    """``full_read_every()`` in words: "hour", "3 hours", "90 minutes" (after "every")."""
    minutes = settings.NINOX_WORKSPACE_FULL_READ_MINUTES
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "hour" if hours == 1 else f"{hours} hours"


def workspace_idle_budget(rows: Mapping[str, int]) -> int | None:
    """Ninox calls an idle hour of syncing costs on the workspace API (``rows``: mapping key
    → rows mirrored), or None on the classic API (where an idle sync is one call a table)."""
    db = connection.database()
    if not isinstance(db, WorkspaceDatabase):
        return None
    mapping = connection.mapping()
    engine = WorkspaceSyncEngine(db, DatabaseSyncStateStore(), {}, full_every=full_read_every())
    return engine.idle_calls_per_hour({mapping[k].name: n for k, n in rows.items()})


#: the month an idle projection counts: the longest, so a 31-day month is never over it
IDLE_MONTH_HOURS = 31 * 24


@dataclass(frozen=True)
class IdleProjection:
    """The workspace backend's own idle cost at the configured full-read interval, against
    the plan's monthly quota (``NINOX_MONTHLY_QUOTA``)."""

    per_hour: int
    per_month: int
    quota: int
    full_read_every: str

    @property
    def over_quota(self) -> bool:
        return self.per_month > self.quota

    @property
    def percent_of_quota(self) -> int:
        return self.per_month * 100 // self.quota


def workspace_idle_projection(rows: Mapping[str, int]) -> IdleProjection | None:
    """``workspace_idle_budget`` an hour and a 31-day month, against the quota; None on the
    classic API."""
    per_hour = workspace_idle_budget(rows)
    if per_hour is None:
        return None
    return IdleProjection(
        per_hour=per_hour,
        per_month=per_hour * IDLE_MONTH_HOURS,
        quota=int(settings.NINOX_MONTHLY_QUOTA),
        full_read_every=full_read_interval(),
    )


@dataclass(frozen=True)
class FullReads:
    """On the workspace API (no change sequence): when a table was last read whole, and when
    the next one is due (``full_read_every()`` after the table read longest ago)."""

    last: dt.datetime | None
    next_due: dt.datetime | None


def workspace_full_reads() -> FullReads | None:
    """The mirror's full reads (None on the classic API, where ``high_water`` says more)."""
    if not connection.is_workspace():
        return None
    row = sync_status()
    if row is None:
        return FullReads(last=None, next_due=None)
    reconciled = SyncState.from_json(row.data).reconciled
    mapping = connection.mapping()
    names = [mapping[key].name for key in _handlers]
    times = [reconciled[name] for name in names if name in reconciled]
    if not times or len(times) < len(names):
        return FullReads(last=max(times, default=None), next_due=None)
    return FullReads(last=max(times), next_due=min(times) + full_read_every())
