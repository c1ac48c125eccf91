"""Keeping a mirror of a workspace-API module: no ``sinceSq``, so full reads and scoped reads.

The workspace API has no change feed and no ``sinceSq`` (see :mod:`.workspace`), so
the engine cannot ask "what changed". Instead:

- **A full read** of a table pages everything by ``offset`` (100 a page, the largest
  ``limit``), upserts it all and deletes what the mirror holds that Ninox no longer
  has. It runs when a table was never read, when asked (``full=True``), or when the
  last full read is older than ``full_every`` (an hour by default; the portal sets it
  with ``NINOX_WORKSPACE_FULL_READ_MINUTES``). Otherwise a run costs **no call** for
  that table: an idle ``full_every`` costs one full read of each table
  (:meth:`WorkspaceSyncEngine.idle_calls_per_hour` says how many calls an hour that is).
  Every page is fetched before the mirror changes: a handler's optional
  ``full_read_fetched(records)`` gets the whole table as Ninox returned it (the portal's
  drift check compares each lodge's total there) and ``full_read_applied()`` runs after.
- **A scoped read** (``scope={"Grants": {"Lodge": 17}}``) reads only the records
  equal to the given values, in one call when they fit a page (a lodge's grants
  of every year; the caller keeps the fiscal year's client-side). Every record is
  verified against the asked values (a filter the server ignored raises
  ``NinoxLookupUnreliable``) and upserted. Verifying what came back cannot show what
  did *not* come back: a server that reads a filter on a reference otherwise (the
  description is silent on references) may answer nothing at all. So a scoped read
  never deletes: when the handler can say which ids it mirrors in the scope (optional
  ``ids_where(filters) -> Iterable[int] | None``, the same ``{field name: value}``) and
  the read lacks any of them, it raises ``NinoxLookupUnreliable`` (deleted in Ninox, or
  a filter read otherwise: the caller cannot tell, so a decision goes to a person) and
  the next full read, which sees every record, settles it. Removing them instead would
  lower the lodge's used budget on the word of a filter nobody confirmed.

The state kept is :class:`~ninox_backend.sync.SyncState` (``reconciled`` holds each
table's last full read; ``marks`` are 0 once a table is loaded), so the portal's
store and health page keep working.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

from .exceptions import NinoxLookupUnreliable
from .profile import CONSERVATIVE, CapabilityProfile
from .sync import (
    Handler,
    SyncProgress,
    SyncResult,
    SyncState,
    SyncStateStore,
    TableMirrorBase,
)
from .types import FieldType, Record
from .workspace import WORKSPACE_MAX_LIMIT, WorkspaceDatabase

__all__ = ["WorkspaceSyncEngine"]

logger = logging.getLogger("ninox_backend")

FULL, SCOPED = "full-read", "scoped-read"


class WorkspaceSyncEngine(TableMirrorBase):
    """Mirror the tables named in ``handlers`` of a workspace module (same result type)."""

    def __init__(
        self,
        db: WorkspaceDatabase,
        state: SyncStateStore,
        handlers: Mapping[str, Handler],
        *,
        key: str | None = None,
        profile: CapabilityProfile = CONSERVATIVE,
        full_every: dt.timedelta = dt.timedelta(hours=1),
        schema_max_age: dt.timedelta = dt.timedelta(hours=1),
        progress: Any = None,
        estimate_totals: bool = False,
        per_page: int | None = None,
    ) -> None:
        self.db = db
        self.state = state
        self.handlers = dict(handlers)
        self.key = key or f"ninox-workspace:{db.team_id}/{db.id}"
        self.profile = profile
        self.full_every = full_every
        self.schema_max_age = schema_max_age
        self.progress = progress
        self.per_page = min(per_page or WORKSPACE_MAX_LIMIT, WORKSPACE_MAX_LIMIT)

    def sync(
        self,
        full: bool = False,
        tables: Iterable[str] | None = None,
        scope: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> SyncResult:
        """Full reads of the tables that are due (or all, with ``full``); scoped reads for
        the tables in ``scope`` (by table name: ``{field name: value}``)."""
        scope = dict(scope or {})
        with self.db.client.counting() as counter:
            state = self.state.get(self.key)
            self._load_schema(state)
            self._resolve_handlers()
            names = self._select(tables)
            scoped = {self.db.table_schema(k).name: v for k, v in scope.items()}
            now = self.db.client.now()
            due = [
                n
                for n in names
                if n not in scoped and (full or self._due(state, n, now) or state.mark(n) is None)
            ]
            result = SyncResult(full=bool(names) and len(due) == len(names), tables=names)
            for name in names:
                if name in scoped and state.mark(name) is not None and not full:
                    self._scoped_read(name, scoped[name], result)
                elif name in due or name in scoped:
                    self._full_read(name, state, result, now)
            self._remember_schema(state)
            state.mode = SCOPED if scoped and not due else FULL
            mapped = [state.marks[n] for n in self.handlers if n in state.marks]
            state.high_water = min(mapped) if len(mapped) == len(self.handlers) else None
            self.state.set(self.key, state)
        result.calls = counter.calls
        result.high_water = state.high_water
        result.mode = state.mode
        logger.info(
            "Ninox workspace sync of %s: %d created, %d updated, %d deleted, %d call(s)",
            ", ".join(names),
            result.created,
            result.updated,
            result.deleted,
            result.calls,
        )
        return result

    def idle_calls_per_hour(self, rows: Mapping[str, int]) -> int:
        """Calls an idle hour costs: a full read of each table (``rows``: name → count) every
        ``full_every`` and the schema every ``schema_max_age`` (both an hour by default).

        A table of ``n`` rows takes ``ceil(n / 100)`` pages (at least one): each page
        says whether there is more (``page_info.has_more``), so no empty page is read.
        """
        hour = dt.timedelta(hours=1)
        pages = sum(max(1, math.ceil(n / self.per_page)) for n in rows.values())
        return math.ceil(pages * hour / self.full_every) + math.ceil(hour / self.schema_max_age)

    # ---- steps ------------------------------------------------------------------------

    def _due(self, state: SyncState, name: str, now: dt.datetime) -> bool:
        last = state.reconciled.get(name)
        return last is None or now - last >= self.full_every

    def _full_read(self, name: str, state: SyncState, result: SyncResult, now: dt.datetime) -> None:
        """Every record by offset; upsert them, delete what Ninox no longer has.

        Every page is fetched before the mirror changes, so a handler with the optional
        ``full_read_fetched(records)`` sees the whole table as Ninox returned it next to
        the mirror as it was (the portal's drift check compares the two there), and its
        ``full_read_applied()`` runs once the mirror holds it. Neither runs on a table's
        first load: there is nothing mirrored to compare with.
        """
        handler = self.handlers[name]
        first_load = state.mark(name) is None
        local = self._local_ids(handler)
        pages: list[list[Record]] = []
        fetched = 0
        for page in self.db.table(name).iter_pages(self.per_page):
            pages.append(page)
            fetched += len(page)
            self._report(name, fetched, "load" if first_load else "reconcile")
        compare = not first_load and local is not None
        if compare:
            self._hook(handler, "full_read_fetched", [r for page in pages for r in page])
        remote: set[int] = set()
        for page in pages:
            handler.upsert(page)
            fresh = [r.id for r in page if local is not None and r.id not in local]
            remote.update(r.id for r in page)
            if first_load or local is None:
                result.created += len(page)
            else:
                result.created += len(fresh)
                result.updated += len(page) - len(fresh)
        if local is not None:
            missing = sorted(local - remote)
            if missing:
                handler.delete(missing)
                result.deleted += len(missing)
        state.marks[name] = 0
        state.reconciled[name] = now
        if compare:
            self._hook(handler, "full_read_applied")

    @staticmethod
    def _hook(handler: Handler, name: str, *args: Any) -> None:
        hook = getattr(handler, name, None)
        if callable(hook):
            hook(*args)

    def _scoped_read(self, name: str, filters: Mapping[str, Any], result: SyncResult) -> None:
        """The records equal to ``filters`` (verified), upserted. Nothing is deleted: when
        the read lacks ids the handler mirrors in that scope (``ids_where``, when it has
        it), ``NinoxLookupUnreliable`` is raised and the next full read settles them."""
        handler = self.handlers[name]
        table = self.db.table_schema(name)
        if self.profile.reference_filter is False and any(
            table.field(k).type == FieldType.REFERENCE for k in filters
        ):
            raise NinoxLookupUnreliable(
                f"the doctor saw a filter on a reference answer without the record that has "
                f"it: {name} {dict(filters)} cannot be read by a filter on this account",
                method="GET",
                path=f"/tables/{name}/records",
                permanent=True,
            )
        ids_where = getattr(handler, "ids_where", None)
        local = ids_where(filters) if callable(ids_where) else None
        local_ids = {int(i) for i in local} if local is not None else None
        remote: set[int] = set()
        count = 0
        for page in self.db.table(name).iter_pages(self.per_page, filters=filters):
            handler.upsert(page)
            remote.update(r.id for r in page)
            count += len(page)
            self._report(name, count, "changes")
        result.updated += count
        missing = sorted(local_ids - remote) if local_ids is not None else []
        if missing:
            shown = ", ".join(str(i) for i in missing[:5]) + (", …" if len(missing) > 5 else "")
            raise NinoxLookupUnreliable(
                f"the filtered read of {name} {dict(filters)} lacks {len(missing)} record(s) "
                f"the mirror holds there ({shown}): deleted in Ninox, or a filter this server "
                "reads otherwise; nothing is removed until the next full read",
                method="GET",
                path=f"/tables/{name}/records",
            )

    def _local_ids(self, handler: Handler) -> set[int] | None:
        local, _ = self._local_sequences(handler)
        return set(local) if local is not None else None

    def _report(self, table: str, done: int, phase: str) -> None:
        if self.progress is not None:
            self.progress(SyncProgress(table, done, None, phase))
