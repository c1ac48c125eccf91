"""The generic sync engine: keep a local mirror of mapped Ninox tables up to date.

A first run (or ``full=True``) pages through every mapped table; later runs
ask the change feed once (``…/changes?sinceSq=<high water>``) and hand each
created, updated or deleted record to the table's handler. Where a server has
no change feed, each table is read with ``records?sinceSq=`` instead, and a
periodic id reconciliation catches deletes. The high-water mark and a copy of
the schema live in a :class:`SyncStateStore`, so an incremental sync with
nothing new costs exactly one call (the schema is re-read at most hourly).

Handlers are idempotent by contract (an upsert of a record already mirrored
changes nothing), so a sync that fails half-way is simply run again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .changes import CREATE, DELETE, ChangeSet
from .database import Database
from .exceptions import NinoxNotFound, NinoxServerError
from .schema import Schema
from .types import Record

__all__ = [
    "Handler",
    "InMemorySyncStateStore",
    "SyncEngine",
    "SyncProgress",
    "SyncResult",
    "SyncState",
    "SyncStateStore",
]

logger = logging.getLogger("ninox_backend")

#: A sinceSq beyond any real sequence: the feed answers with its current seq and no changes.
PROBE_SQ = 2**53 - 1
FEED, RECORDS = "feed", "records"


@runtime_checkable
class Handler(Protocol):
    """Receives one table's changes. Must be idempotent.

    Optional methods: ``reset()`` (called before a full load) and
    ``ids() -> Iterable[int]`` (the ids mirrored locally, for catching
    deletes by reconciliation when the server has no change feed).
    """

    def upsert(self, records: list[Record]) -> None: ...

    def delete(self, ids: list[int]) -> None: ...


@dataclass
class SyncState:
    """What the engine remembers between runs, per database."""

    #: the database's sequence number up to which the mirror is complete
    high_water: int | None = None
    #: when the schema below was read from Ninox
    schema_checked_at: dt.datetime | None = None
    #: the database endpoint's reply, as JSON (so a new process needs no schema call)
    schema: Any = None
    #: "feed" (change feed) or "records" (records?sinceSq= fallback); None until known
    mode: str | None = None
    #: the last id reconciliation (records mode)
    reconciled_at: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (for a database row or a file)."""
        data = dataclasses.asdict(self)
        for key in ("schema_checked_at", "reconciled_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SyncState:
        if not data:
            return cls()
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("schema_checked_at", "reconciled_at"):
            if isinstance(values.get(key), str):
                values[key] = dt.datetime.fromisoformat(values[key])
        return cls(**values)


@runtime_checkable
class SyncStateStore(Protocol):
    """Where the engine keeps its :class:`SyncState` (the portal stores it in its database)."""

    def get(self, key: str) -> SyncState: ...

    def set(self, key: str, state: SyncState) -> None: ...


class InMemorySyncStateStore:
    """A :class:`SyncStateStore` in a dict, for tests and one-off scripts."""

    def __init__(self) -> None:
        self._states: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> SyncState:
        with self._lock:
            return SyncState.from_json(self._states.get(key))

    def set(self, key: str, state: SyncState) -> None:
        with self._lock:
            self._states[key] = state.to_json()


@dataclass(frozen=True)
class SyncProgress:
    """Handed to the progress callback after each page (``total`` when known)."""

    table: str
    done: int
    total: int | None = None
    phase: str = "load"


@dataclass
class SyncResult:
    """What one sync did. ``calls`` counts HTTP requests, retries included."""

    calls: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    high_water: int | None = None
    full: bool = False
    mode: str | None = None


class SyncEngine:
    """Mirror the tables named in ``handlers`` (``{"Grants": handler}``) of ``db``."""

    def __init__(
        self,
        db: Database,
        state: SyncStateStore,
        handlers: Mapping[str, Handler],
        *,
        key: str | None = None,
        per_page: int = 500,
        schema_max_age: dt.timedelta = dt.timedelta(hours=1),
        reconcile_every: dt.timedelta = dt.timedelta(hours=24),
        progress: Callable[[SyncProgress], None] | None = None,
        estimate_totals: bool = False,
    ) -> None:
        self.db = db
        self.state = state
        self.handlers = dict(handlers)
        self.key = key or f"ninox:{db.team_id}/{db.id}"
        self.per_page = per_page
        self.schema_max_age = schema_max_age
        self.reconcile_every = reconcile_every
        self.progress = progress
        self.estimate_totals = estimate_totals

    def sync(self, full: bool = False) -> SyncResult:
        """Bring the mirror up to date: a full load on the first run or when ``full``."""
        with self.db.client.counting() as counter:
            state = self.state.get(self.key)
            self._load_schema(state)
            self._resolve_handlers()
            if full or state.high_water is None:
                result = self._full_load(state)
            else:
                result = self._incremental(state)
            self._remember_schema(state)
            self.state.set(self.key, state)
        result.calls = counter.calls
        result.high_water = state.high_water
        result.mode = state.mode
        logger.info(
            "Ninox sync %s: %d created, %d updated, %d deleted, high water %s, %d call(s)",
            "full" if result.full else "incremental",
            result.created,
            result.updated,
            result.deleted,
            result.high_water,
            result.calls,
        )
        return result

    def _resolve_handlers(self) -> None:
        # Handlers may be keyed by table id or name; changes arrive with the table's name.
        self.handlers = {self.db.table_schema(key).name: h for key, h in self.handlers.items()}

    # ---- schema -----------------------------------------------------------------------

    def _load_schema(self, state: SyncState) -> None:
        now = self.db.client.now()
        if self.db.schema_is_fresh():
            return
        saved_is_fresh = (
            state.schema is not None
            and state.schema_checked_at is not None
            and now - state.schema_checked_at < self.schema_max_age
        )
        if saved_is_fresh:
            self.db.use_schema(state.schema, fetched_at=state.schema_checked_at)
        else:
            self.db.schema(refresh=True)

    def _remember_schema(self, state: SyncState) -> None:
        schema: Schema | None = self.db.cached_schema()
        if schema is None or schema.fetched_at is None:
            return
        if state.schema_checked_at is None or schema.fetched_at > state.schema_checked_at:
            state.schema = schema.raw
            state.schema_checked_at = schema.fetched_at

    # ---- full load --------------------------------------------------------------------

    def _probe_feed(self, state: SyncState) -> int | None:
        """The database's current seq from the change feed (None and records mode if none)."""
        try:
            probe = self.db.changes(since_sq=PROBE_SQ)
        except NinoxNotFound:
            probe = None
        except NinoxServerError as exc:
            if exc.status != 501:
                raise
            probe = None
        if probe is None or probe.bare or probe.seq is None:
            state.mode = RECORDS
            return None
        state.mode = FEED
        return probe.seq

    def _full_load(self, state: SyncState) -> SyncResult:
        result = SyncResult(full=True)
        # The mark is taken before paging, so changes made during the load are replayed next time.
        high_water = self._probe_feed(state)
        max_seen = state.high_water or 0
        for name, handler in self.handlers.items():
            table = self.db.table(name)
            reset = getattr(handler, "reset", None)
            if callable(reset):
                reset()
            total = self._estimate(name) if self.estimate_totals else None
            seen_ids: set[int] = set()
            for page in table.iter_pages(self.per_page):
                handler.upsert(page)
                result.created += len(page)
                seen_ids.update(r.id for r in page)
                max_seen = max([max_seen, *(r.sequence or 0 for r in page)])
                self._report(name, len(seen_ids), total, "load")
            if not callable(reset):
                result.deleted += self._delete_missing(handler, seen_ids)
        state.high_water = high_water if high_water is not None else max_seen
        state.reconciled_at = self.db.client.now()
        return result

    def _estimate(self, name: str) -> int | None:
        from . import nx

        try:
            value = self.db.query(nx.count(nx.select(name)))
            return int(value) if value is not None else None
        except (ValueError, TypeError):
            return None

    # ---- incremental ------------------------------------------------------------------

    def _incremental(self, state: SyncState) -> SyncResult:
        assert state.high_water is not None
        if state.mode == RECORDS:
            return self._incremental_records(state)
        try:
            changes = self.db.changes(since_sq=state.high_water)
        except NinoxNotFound:
            changes = None
        except NinoxServerError as exc:
            if exc.status != 501:
                raise
            changes = None
        if changes is None or changes.bare:
            logger.info("Ninox has no usable change feed; syncing with records?sinceSq=")
            state.mode = RECORDS
            return self._incremental_records(state)
        state.mode = FEED
        result = self._dispatch(changes)
        if changes.seq is not None:
            state.high_water = max(state.high_water, changes.seq)
        return result

    def _dispatch(self, changes: ChangeSet) -> SyncResult:
        result = SyncResult()
        # The last change of each record wins; the first tells whether it is new to the mirror.
        first_op: dict[tuple[str, int], str] = {}
        last: dict[tuple[str, int], Any] = {}
        for change in sorted(changes.changes, key=lambda c: c.seq or 0):
            if change.table not in self.handlers:
                continue
            key = (change.table, change.id)
            first_op.setdefault(key, change.op)
            last[key] = change
        upserts: dict[str, list[Record]] = {}
        deletes: dict[str, list[int]] = {}
        for key, change in last.items():
            name, record_id = key
            record = change.record
            if change.op != DELETE and record is None:
                record = self._fetch(name, record_id)
            if change.op == DELETE or record is None:
                if first_op[key] != CREATE:
                    deletes.setdefault(name, []).append(record_id)
                continue
            upserts.setdefault(name, []).append(record)
            if first_op[key] == CREATE:
                result.created += 1
            else:
                result.updated += 1
        for name, records in upserts.items():
            self.handlers[name].upsert(records)
            self._report(name, len(records), len(records), "changes")
        for name, ids in deletes.items():
            self.handlers[name].delete(ids)
            result.deleted += len(ids)
        return result

    def _fetch(self, name: str, record_id: int) -> Record | None:
        try:
            return self.db.table(name).get(record_id)
        except NinoxNotFound:
            return None

    def _incremental_records(self, state: SyncState) -> SyncResult:
        assert state.high_water is not None
        result = SyncResult()
        high_water = state.high_water
        for name, handler in self.handlers.items():
            done = 0
            for page in self.db.table(name).iter_pages(self.per_page, since_sq=state.high_water):
                handler.upsert(page)
                result.updated += len(page)
                done += len(page)
                high_water = max([high_water, *(r.sequence or 0 for r in page)])
                self._report(name, done, None, "changes")
        state.high_water = high_water
        now = self.db.client.now()
        if state.reconciled_at is None or now - state.reconciled_at >= self.reconcile_every:
            result.deleted += self._reconcile()
            state.reconciled_at = now
        return result

    def _reconcile(self) -> int:
        """Page every table's ids and delete what the mirror has but Ninox no longer does."""
        deleted = 0
        for name, handler in self.handlers.items():
            if not callable(getattr(handler, "ids", None)):
                continue
            remote: set[int] = set()
            for page in self.db.table(name).iter_pages(self.per_page):
                remote.update(r.id for r in page)
                self._report(name, len(remote), None, "reconcile")
            deleted += self._delete_missing(handler, remote)
        return deleted

    def _delete_missing(self, handler: Handler, remote_ids: set[int]) -> int:
        ids_method = getattr(handler, "ids", None)
        if not callable(ids_method):
            return 0
        local: Iterable[int] = ids_method()
        missing = sorted(set(local) - remote_ids)
        if missing:
            handler.delete(missing)
        return len(missing)

    def _report(self, table: str, done: int, total: int | None, phase: str) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(table, done, total, phase))
