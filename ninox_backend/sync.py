"""The generic sync engine: keep a local mirror of mapped Ninox tables up to date.

Each mapped table has its own high-water mark (a decision's refresh reads only
Grants, so one database-wide mark would skip changes to Lodges). A first run
(or ``full=True``) pages through a table; later runs read
``records?sinceSq=<the table's mark>``, the documented way, one call per table
when nothing changed. The change feed (``…/changes?sinceSq=``) is used only
when the capability profile says this account has been shown to answer in a
shape the client fully understands; then it is parsed strictly (a change it
cannot apply stops the sync with :class:`NinoxSyncError`), and any failed call
to it means "no feed" for that run. A daily reconciliation reads every table
and compares each record's ``sequence`` with the mirror's, repairing missed
updates and deletes.

The marks and a copy of the schema live in a :class:`SyncStateStore`, so an
incremental sync with nothing new costs one call per table (the schema is
re-read at most hourly). Handlers are idempotent by contract (an upsert of a
record already mirrored changes nothing), so a sync that fails half-way is
simply run again: the state is stored only after every handler has been called.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from .changes import CREATE, DELETE, ChangeSet
from .database import Database
from .exceptions import NinoxError, NinoxNotFound
from .profile import CONSERVATIVE, CapabilityProfile
from .schema import Schema
from .types import Record, dumps, loads

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

FEED, RECORDS = "feed", "records"


@runtime_checkable
class Handler(Protocol):
    """Receives one table's changes. Must be idempotent.

    Optional methods: ``reset()`` (called before a full load), ``ids() ->
    Iterable[int]`` (the ids mirrored locally) and ``sequences() -> Mapping[int,
    int | None]`` (each mirrored id's Ninox ``sequence``). The reconciliation uses
    ``sequences()`` to repair missed updates as well as deletes, else ``ids()``.
    """

    def upsert(self, records: list[Record]) -> None: ...

    def delete(self, ids: list[int]) -> None: ...


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _exact(value: Any) -> Any:
    """``value`` with any ``float`` (from a caller, never from the client's reader) as a Decimal."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {str(k): _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def _moment(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else None


@dataclass
class SyncState:
    """What the engine remembers between runs, per database."""

    #: the lowest of the tables' marks (what the health page shows); see ``marks``
    high_water: int | None = None
    #: per table (by name): the sequence up to which that table's mirror is complete
    marks: dict[str, int] = field(default_factory=dict)
    #: when the schema below was read from Ninox
    schema_checked_at: dt.datetime | None = None
    #: the database endpoint's reply (so a new process needs no schema call)
    schema: Any = None
    #: how the last run read changes: "feed" or "records"
    mode: str | None = None
    #: per table: the last reconciliation (every record's sequence compared)
    reconciled: dict[str, dt.datetime] = field(default_factory=dict)
    #: per table: the greatest sequence seen in a completed read (see ``SyncEngine._new_mark``)
    seen: dict[str, int] = field(default_factory=dict)

    def mark(self, table: str) -> int | None:
        """The table's mark (None: the table has not been loaded yet)."""
        return self.marks.get(table)

    def to_json(self) -> dict[str, Any]:
        """A dict any JSON encoder takes (a database row or a file).

        The schema is kept as JSON *text* written by :func:`~ninox_backend.types.dumps`:
        Ninox sends fractional numbers (``"formWidth": 0.5``) that the client reads
        as exact ``Decimal`` and a plain JSON encoder refuses.
        """
        return {
            "high_water": self.high_water,
            "marks": {str(k): int(v) for k, v in self.marks.items()},
            "schema_checked_at": _iso(self.schema_checked_at),
            "schema": dumps(_exact(self.schema)) if self.schema is not None else None,
            "mode": self.mode,
            "reconciled": {str(k): v.isoformat() for k, v in self.reconciled.items()},
            "seen": {str(k): int(v) for k, v in self.seen.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> SyncState:
        if not data:
            return cls()
        schema = data.get("schema")
        if isinstance(schema, str):
            schema = loads(schema)
        marks = data.get("marks")
        seen = data.get("seen")
        reconciled = data.get("reconciled")
        return cls(
            high_water=data.get("high_water"),
            marks={str(k): int(v) for k, v in marks.items()} if isinstance(marks, Mapping) else {},
            schema_checked_at=_moment(data.get("schema_checked_at")),
            schema=schema,
            mode=data.get("mode"),
            reconciled={
                str(k): moment
                for k, v in (reconciled.items() if isinstance(reconciled, Mapping) else ())
                if (moment := _moment(v)) is not None
            },
            seen={str(k): int(v) for k, v in seen.items()} if isinstance(seen, Mapping) else {},
        )


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
    #: the tables this run synced, by name
    tables: tuple[str, ...] = ()


class TableMirrorBase:
    """What both sync engines share (this one and the workspace API's): handlers keyed by
    table name, the tables a run selects, the schema from the stored copy, the local ids."""

    db: Database
    handlers: dict[str, Handler]
    schema_max_age: dt.timedelta

    def _resolve_handlers(self) -> None:
        # Handlers may be keyed by table id or name; changes arrive with the table's name.
        self.handlers = {self.db.table_schema(key).name: h for key, h in self.handlers.items()}

    def _select(self, tables: Iterable[str] | None) -> tuple[str, ...]:
        if tables is None:
            return tuple(self.handlers)
        names = []
        for key in tables:
            name = self.db.table_schema(key).name
            if name not in self.handlers:
                raise ValueError(f"table {key!r} has no sync handler")
            if name not in names:
                names.append(name)
        return tuple(names)

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

    @staticmethod
    def _local_sequences(handler: Handler) -> tuple[Mapping[int, int | None] | None, bool]:
        """The mirror's ids with their sequences and whether those can be compared.

        From ``sequences()`` when the handler has it; else from ``ids()`` (then only
        missing and extra records are repaired); else ``(None, False)``.
        """
        sequences = getattr(handler, "sequences", None)
        if callable(sequences):
            return {int(k): v for k, v in sequences().items()}, True
        ids = getattr(handler, "ids", None)
        if callable(ids):
            return dict.fromkeys((int(i) for i in ids()), None), False
        return None, False


class SyncEngine(TableMirrorBase):
    """Mirror the tables named in ``handlers`` (``{"Grants": handler}``) of ``db``.

    ``profile`` is what the account has been shown to do (the change feed, the
    page size); without one the engine uses :data:`~ninox_backend.profile.CONSERVATIVE`.
    """

    def __init__(
        self,
        db: Database,
        state: SyncStateStore,
        handlers: Mapping[str, Handler],
        *,
        key: str | None = None,
        per_page: int | None = None,
        profile: CapabilityProfile = CONSERVATIVE,
        schema_max_age: dt.timedelta = dt.timedelta(hours=1),
        reconcile_every: dt.timedelta = dt.timedelta(hours=24),
        progress: Callable[[SyncProgress], None] | None = None,
        estimate_totals: bool = False,
    ) -> None:
        self.db = db
        self.state = state
        self.handlers = dict(handlers)
        self.key = key or f"ninox:{db.team_id}/{db.id}"
        self.profile = profile
        self.per_page = per_page or profile.per_page
        self.schema_max_age = schema_max_age
        self.reconcile_every = reconcile_every
        self.progress = progress
        self.estimate_totals = estimate_totals

    def sync(self, full: bool = False, tables: Iterable[str] | None = None) -> SyncResult:
        """Bring the mirror up to date: a full load of a table on its first run or when ``full``.

        ``tables`` (names or ids of mapped tables) limits the run to those tables;
        the others' marks stay where they are.
        """
        with self.db.client.counting() as counter:
            state = self.state.get(self.key)
            self._load_schema(state)
            self._resolve_handlers()
            names = self._select(tables)
            if not state.marks and state.high_water is not None:
                # A state from before per-table marks: the one mark held for every table.
                state.marks = dict.fromkeys(self.handlers, state.high_water)
            to_load = [n for n in names if full or state.mark(n) is None]
            to_follow = [n for n in names if n not in to_load]
            result = SyncResult(full=bool(names) and len(to_load) == len(names), tables=names)
            for name in to_load:
                self._full_load(name, state, result)
            if to_follow:
                self._incremental(to_follow, state, result)
                self._reconcile_due(to_follow, state, result)
            mapped = [state.marks[n] for n in self.handlers if n in state.marks]
            state.high_water = min(mapped) if len(mapped) == len(self.handlers) else None
            self._remember_schema(state)
            self.state.set(self.key, state)
        result.calls = counter.calls
        result.high_water = state.high_water
        result.mode = state.mode
        logger.info(
            "Ninox sync %s of %s: %d created, %d updated, %d deleted, marks %s, %d call(s)",
            "full" if result.full else "incremental",
            ", ".join(names),
            result.created,
            result.updated,
            result.deleted,
            {n: state.marks.get(n) for n in names},
            result.calls,
        )
        return result

    # ---- reading a table ----------------------------------------------------------------

    def _read(
        self, name: str, since_sq: int | None, phase: str, total: int | None = None
    ) -> tuple[list[int], int | None, int | None]:
        """Page through ``name`` (from ``since_sq``), upserting each page.

        Returns the ids read, the greatest sequence on the first page and the
        greatest sequence of all pages (``None`` when nothing came); the caller
        turns them into the table's new mark with :meth:`_new_mark`.
        """
        handler = self.handlers[name]
        ids: list[int] = []
        first: int | None = None
        greatest: int | None = None
        pages = self.db.table(name).iter_pages(
            self.per_page, since_sq=since_sq, server_cap=self.profile.per_page
        )
        for number, page in enumerate(pages):
            handler.upsert(page)
            ids.extend(r.id for r in page)
            page_max = max((r.sequence for r in page if r.sequence is not None), default=None)
            if number == 0:
                first = page_max
            if page_max is not None:
                greatest = max(greatest or 0, page_max)
            self._report(name, len(ids), total, phase)
        return ids, first, greatest

    @staticmethod
    def _new_mark(*candidates: int | None) -> int | None:
        """The greatest of the candidates that are known.

        A table's mark must never pass a change the read did not see. Sequences
        only grow, so every sequence seen in a reply is at most the database's
        sequence when that reply arrived; and a change made while a read is under
        way gets a sequence above the database's sequence when the read began.
        Hence two safe candidates:

        - the greatest sequence on the read's FIRST page: with ``sinceSq`` records
          only enter the set being paged (a change gives a record a higher
          sequence, never takes it out), so nothing unchanged at or below it was
          missed, and whatever changed during the read is above it. When the read
          took one page this is simply its greatest sequence. The greatest of ALL
          pages would be wrong: a record on page 1 changed while page 5 was read
          carries a lower sequence than page 5's newest and would be skipped.
        - the greatest sequence this table showed in reads that ENDED before this
          one began (``SyncState.seen``): it is below the database's sequence at
          the start of this read, for the same reason. Without it a table loaded
          in creation order would advance its mark one page per sync; with it,
          the read after a full load re-reads the table's tail once and the next
          costs one call.

        The old mark is a candidate too (it was safe and nothing below it was
        skipped). Not covered: a record deleted mid-read can shift another from an
        unread page onto a read one; the daily reconciliation, which compares every
        record's sequence, repairs that.
        """
        known = [c for c in candidates if c is not None]
        return max(known) if known else None

    # ---- full load --------------------------------------------------------------------

    def _full_load(self, name: str, state: SyncState, result: SyncResult) -> None:
        handler = self.handlers[name]
        reset = getattr(handler, "reset", None)
        if callable(reset):
            reset()
        total = self._estimate(name) if self.estimate_totals else None
        ids, first, greatest = self._read(name, None, "load", total)
        result.created += len(ids)
        if not callable(reset):
            local, _ = self._local_sequences(handler)
            missing = sorted(set(local or ()) - set(ids))
            if missing:
                handler.delete(missing)
                result.deleted += len(missing)
        # A full load trusts nothing remembered (it may repair a mirror whose marks are
        # wrong, e.g. after Ninox restored a backup): its own first page only.
        state.marks[name] = first or 0
        if greatest is not None:
            state.seen[name] = greatest
        else:
            state.seen.pop(name, None)
        state.reconciled[name] = self.db.client.now()
        state.mode = state.mode or RECORDS

    def _estimate(self, name: str) -> int | None:
        """``count(select …)`` for the progress bar; optional, so it never stops a sync."""
        from . import nx

        try:
            value = self.db.query(nx.count(nx.select(name)))
        except NinoxError as exc:
            logger.info("Ninox progress estimate for %s unavailable: %s", name, type(exc).__name__)
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return None
        try:
            return int(value)
        except (ValueError, ArithmeticError):
            return None

    # ---- incremental ------------------------------------------------------------------

    def _incremental(self, names: list[str], state: SyncState, result: SyncResult) -> None:
        if self.profile.change_feed:
            changes = self._feed(min(state.mark(n) or 0 for n in names))
            if changes is not None:
                state.mode = FEED
                self._apply_feed(changes, names, state, result)
                return
        state.mode = RECORDS
        for name in names:
            seen_before = state.seen.get(name)
            ids, first, greatest = self._read(name, state.mark(name), "changes")
            result.updated += len(ids)
            mark = self._new_mark(state.mark(name), first, seen_before)
            if mark is not None:
                state.marks[name] = mark
            seen = self._new_mark(seen_before, greatest)
            if seen is not None:
                state.seen[name] = seen

    def _feed(self, since_sq: int) -> ChangeSet | None:
        """The strictly parsed feed after ``since_sq``, or None when the call failed.

        Any failed call (a 4xx, a 5xx, a timeout) means "no feed" for this run: the
        records are read instead. A reply that is not fully understood raises
        ``NinoxSyncError``: the profile said the feed works, so a person must look.
        """
        try:
            data = self.db.request("GET", "/changes", params={"sinceSq": since_sq})
        except NinoxError as exc:
            logger.warning("Ninox change feed failed (%s); reading records?sinceSq= this time", exc)
            return None
        return self.db._parse_changes(data, since_sq, None, strict=True)

    def _apply_feed(
        self, changes: ChangeSet, names: list[str], state: SyncState, result: SyncResult
    ) -> None:
        # The last change of each record wins; the first tells whether it is new to the mirror.
        first_op: dict[tuple[str, int], str] = {}
        last: dict[tuple[str, int], Any] = {}
        for change in sorted(changes.changes, key=lambda c: c.seq or 0):
            if change.table not in names:
                continue  # another table's change: its own mark stays below it
            mark = state.mark(change.table)
            if change.seq is not None and mark is not None and change.seq <= mark:
                continue  # already applied by an earlier run
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
                # Even a record created after the mark may be mirrored (a load reads past
                # its first page's mark), so every delete is passed on; handlers ignore ids
                # they do not have.
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
        if changes.seq is not None:
            for name in names:
                state.marks[name] = max(changes.seq, state.mark(name) or 0)

    def _fetch(self, name: str, record_id: int) -> Record | None:
        try:
            return self.db.table(name).get(record_id)
        except NinoxNotFound:
            return None

    # ---- reconciliation -----------------------------------------------------------------

    def _reconcile_due(self, names: list[str], state: SyncState, result: SyncResult) -> None:
        now = self.db.client.now()
        for name in names:
            last = state.reconciled.get(name)
            if last is None or now - last >= self.reconcile_every:
                self._reconcile(name, result)
                state.reconciled[name] = now

    def _reconcile(self, name: str, result: SyncResult) -> None:
        """Read every record of ``name``; upsert what the mirror has at another sequence
        (or not at all), delete what Ninox no longer has."""
        handler = self.handlers[name]
        local, by_sequence = self._local_sequences(handler)
        if local is None:
            return
        remote: set[int] = set()
        for page in self.db.table(name).iter_pages(self.per_page, server_cap=self.profile.per_page):
            remote.update(r.id for r in page)
            stale = [
                r for r in page if r.id not in local or (by_sequence and local[r.id] != r.sequence)
            ]
            if stale:
                handler.upsert(stale)
                result.updated += len(stale)
            self._report(name, len(remote), None, "reconcile")
        missing = sorted(set(local) - remote)
        if missing:
            handler.delete(missing)
            result.deleted += len(missing)

    def _report(self, table: str, done: int, total: int | None, phase: str) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(table, done, total, phase))
