"""Runs NX for the ``query`` and ``exec`` endpoints against the store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from .errors import BadRequest
from .nx import Evaluator, NxError, serialize
from .schema import Database, Table
from .store import Row, Store, TableRows

# Ninox evaluates today() in the user's zone; the demo foundation is in Chicago.
LOCAL_ZONE = ZoneInfo("America/Chicago")


class StoreData:
    """The evaluator's view of one database; rows are read once per run until a write."""

    def __init__(self, store: Store, db: Database, writable: bool) -> None:
        self.store = store
        self.db = db
        self.writable = writable
        self._rows: dict[int, TableRows] = {}

    def tables(self) -> list[Table]:
        return self.db.tables

    def table(self, ref: str) -> Table | None:
        return self.db.table(ref)

    def rows(self, table: Table) -> TableRows:
        rows = self._rows.get(table.key)
        if rows is None:
            rows = self._rows[table.key] = self.store.rows(table)
        return rows

    def create(self, table: Table) -> Row:
        self._rows.clear()
        (row,) = self.store.save(self.db, table, [(None, {})])
        return row

    def update(self, table: Table, rid: int, values: dict[str, Any]) -> Row:
        self._rows.clear()
        return self.store.touch(self.db, table, rid, values)

    def delete(self, table: Table, rid: int) -> None:
        self._rows.clear()
        self.store.delete(self.db, table, [rid])

    def now(self) -> datetime:
        now = self.store.clock()
        return now.astimezone(UTC).replace(tzinfo=None, microsecond=0)

    def today(self) -> date:
        return self.store.clock().astimezone(LOCAL_ZONE).date()


def run_nx(store: Store, db: Database, source: str, writable: bool) -> Any:
    """The JSON value of an NX program; 400 for syntax, names, types or a write in a query."""
    try:
        if writable:
            with store.transaction():
                result = Evaluator(StoreData(store, db, True)).run(source)
                return serialize(result)
        with store.lock:
            return serialize(Evaluator(StoreData(store, db, False)).run(source))
    except NxError as exc:
        raise BadRequest(exc.message) from None
    except RecursionError:
        raise BadRequest("NX program nested too deeply") from None
