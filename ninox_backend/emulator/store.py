"""The emulator's state in SQLite: teams, databases, tables, records, change log, files.

One connection guarded by a re-entrant lock; every write runs in one transaction
(:meth:`Store.transaction`), so a batch either lands whole or not at all. Record
fields are kept as JSON keyed by field id, in the stored forms of :mod:`.values`.
The database-wide sequence lives in ``dbs.seq`` and bumps once per record change.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError, BadRequest, NotFound, Unprocessable
from .schema import Database, Field, SchemaError, Table, build_fields, letters
from .values import FieldValueError, epoch_ms, to_json, to_storage

_DDL = """
CREATE TABLE IF NOT EXISTS teams(id TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dbs(
  key INTEGER PRIMARY KEY, team_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0, UNIQUE(team_id, id));
CREATE TABLE IF NOT EXISTS tbls(
  key INTEGER PRIMARY KEY, db_key INTEGER NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
  fields TEXT NOT NULL, next_id INTEGER NOT NULL DEFAULT 1, UNIQUE(db_key, id));
CREATE TABLE IF NOT EXISTS records(
  tkey INTEGER NOT NULL, id INTEGER NOT NULL, sequence INTEGER NOT NULL,
  created_at TEXT NOT NULL, created_by TEXT NOT NULL,
  modified_at TEXT NOT NULL, modified_by TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY(tkey, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_sequence ON records(tkey, sequence);
CREATE TABLE IF NOT EXISTS changes(
  db_key INTEGER NOT NULL, seq INTEGER NOT NULL, tkey INTEGER NOT NULL, rid INTEGER NOT NULL,
  op TEXT NOT NULL, PRIMARY KEY(tkey, rid));
CREATE INDEX IF NOT EXISTS changes_seq ON changes(db_key, seq);
CREATE INDEX IF NOT EXISTS changes_table_seq ON changes(tkey, seq);
CREATE TABLE IF NOT EXISTS files(
  tkey INTEGER NOT NULL, rid INTEGER NOT NULL, name TEXT NOT NULL, field_id TEXT,
  content_type TEXT NOT NULL, size INTEGER NOT NULL, created_at TEXT NOT NULL,
  data BLOB NOT NULL, PRIMARY KEY(tkey, rid, name));
"""

_ROW_COLUMNS = "id, sequence, created_at, created_by, modified_at, modified_by, data"
_INSERT = f"INSERT INTO records({_ROW_COLUMNS}, tkey) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608  # nosec B608


@dataclass(slots=True)
class Row:
    """One stored record; ``data`` maps field ids to stored values (no nulls)."""

    id: int
    sequence: int
    created_at: str
    created_by: str
    modified_at: str
    modified_by: str
    data: dict[str, Any]


@dataclass
class TableRows:
    """All rows of a table at one sequence, for the NX evaluator."""

    rows: list[Row]
    by_id: dict[int, Row]
    backrefs: dict[str, dict[int, list[Row]]] = field(default_factory=dict)

    def referencing(self, field_id: str, target_id: int) -> list[Row]:
        """Rows whose reference field ``field_id`` holds ``target_id``."""
        index = self.backrefs.get(field_id)
        if index is None:
            index = {}
            for row in self.rows:
                ref = row.data.get(field_id)
                if ref is not None:
                    index.setdefault(ref, []).append(row)
            self.backrefs[field_id] = index
        return index.get(target_id, [])


@dataclass(frozen=True)
class ListQuery:
    """Parameters of ``GET …/records`` after parsing."""

    page: int = 0
    per_page: int = 100
    order: Field | None = None
    desc: bool = False
    new: bool = False
    updated: bool = False
    since_id: int | None = None
    since_sq: int | None = None
    filters: tuple[tuple[Field, Any], ...] = ()
    ids: tuple[int, ...] | None = None
    #: rows to skip (the workspace API's ``offset``); None: ``page * per_page``
    offset: int | None = None


def _row(values: Sequence[Any]) -> Row:
    rid, sequence, created_at, created_by, modified_at, modified_by, data = values
    return Row(rid, sequence, created_at, created_by, modified_at, modified_by, json.loads(data))


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    """SQLite-backed state; every public method is thread-safe."""

    def __init__(
        self, path: str = ":memory:", clock: Callable[[], datetime] = _now, user: str = "u1"
    ) -> None:
        self.path = path
        self.clock = clock
        self.user = user
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_DDL)
        self._depth = 0
        self._dbs: dict[int, Database] = {}
        self._cache: dict[int, tuple[int, TableRows]] = {}
        self._load_schema()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # -- transactions ---------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one transaction (nested blocks join the outer one)."""
        with self.lock:
            if self._depth == 0:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self.conn
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.conn.execute("ROLLBACK")
                    # Rows cached inside the failed transaction are not real.
                    self._cache.clear()
                    self._load_schema()
                raise
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")

    def timestamp(self) -> str:
        now = self.clock()
        if now.tzinfo is not None:
            now = now.astimezone(UTC)
        return now.strftime("%Y-%m-%dT%H:%M:%S")

    # -- teams, databases, tables --------------------------------------------
    def _load_schema(self) -> None:
        self._dbs = {}
        for key, team_id, db_id, name in self.conn.execute(
            "SELECT key, team_id, id, name FROM dbs ORDER BY key"
        ):
            self._dbs[key] = Database(key, team_id, db_id, name)
        for key, db_key, tid, name, fields in self.conn.execute(
            "SELECT key, db_key, id, name, fields FROM tbls ORDER BY key"
        ):
            parsed = [Field.from_json(f) for f in json.loads(fields)]
            self._dbs[db_key].tables.append(Table(key, db_key, tid, name, parsed))

    def teams(self) -> list[dict[str, str]]:
        with self.lock:
            rows = self.conn.execute("SELECT id, name FROM teams ORDER BY rowid").fetchall()
        return [{"id": i, "name": n} for i, n in rows]

    def team(self, team_id: str) -> dict[str, str]:
        with self.lock:
            row = self.conn.execute("SELECT id, name FROM teams WHERE id=?", (team_id,)).fetchone()
        if row is None:
            raise NotFound(f"team {team_id!r} not found")
        return {"id": row[0], "name": row[1]}

    def add_team(self, team_id: str, name: str) -> str:
        with self.transaction() as conn:
            conn.execute("INSERT INTO teams(id, name) VALUES (?, ?)", (team_id, name))
        return team_id

    def databases(self, team_id: str) -> list[Database]:
        self.team(team_id)
        with self.lock:
            return [d for d in self._dbs.values() if d.team_id == team_id]

    def database(self, team_id: str, db_id: str) -> Database:
        self.team(team_id)
        with self.lock:
            for db in self._dbs.values():
                if db.team_id == team_id and db.id == db_id:
                    return db
        raise NotFound(f"database {db_id!r} not found in team {team_id!r}")

    def add_database(self, team_id: str, db_id: str, name: str) -> str:
        self.team(team_id)
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO dbs(team_id, id, name) VALUES (?, ?, ?)", (team_id, db_id, name)
            )
            key = int(cur.lastrowid or 0)
            self._dbs[key] = Database(key, team_id, db_id, name)
        return db_id

    def add_table(
        self,
        db: Database,
        name: str,
        fields: Iterable[Mapping[str, Any]],
        table_id: str | None = None,
    ) -> Table:
        """Create a table; reference fields may point to itself or existing tables."""
        with self.transaction() as conn:
            if any(t.name == name for t in db.tables):
                raise SchemaError(f"table {name!r} exists")
            tid = table_id or letters(len(db.tables))
            resolve = {t.name: t.id for t in db.tables} | {t.id: t.id for t in db.tables}
            resolve |= {name: tid, tid: tid}
            built = build_fields(fields, resolve)
            cur = conn.execute(
                "INSERT INTO tbls(db_key, id, name, fields) VALUES (?, ?, ?, ?)",
                (db.key, tid, name, json.dumps([f.to_json() for f in built])),
            )
            conn.execute("UPDATE dbs SET version = version + 1 WHERE key=?", (db.key,))
            table = Table(int(cur.lastrowid or 0), db.key, tid, name, built)
            db.tables.append(table)
        return table

    def table(self, db: Database, ref: str) -> Table:
        table = db.table(ref)
        if table is None:
            raise NotFound(f"table {ref!r} not found")
        return table

    def seq(self, db: Database) -> int:
        with self.lock:
            return int(
                self.conn.execute("SELECT seq FROM dbs WHERE key=?", (db.key,)).fetchone()[0]
            )

    def version(self, db: Database) -> int:
        with self.lock:
            row = self.conn.execute("SELECT version FROM dbs WHERE key=?", (db.key,)).fetchone()
            return int(row[0])

    # -- reading records -------------------------------------------------------
    def record(self, table: Table, rid: int) -> Row | None:
        with self.lock:
            row = self.conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM records WHERE tkey=? AND id=?",  # noqa: S608  # nosec B608
                (table.key, rid),
            ).fetchone()
        return _row(row) if row else None

    def get(self, table: Table, rid: int) -> Row:
        row = self.record(table, rid)
        if row is None:
            raise NotFound(f"record {rid} not found in table {table.name!r}")
        return row

    def list_records(self, table: Table, query: ListQuery) -> list[Row]:
        where = ["tkey=?"]
        args: list[Any] = [table.key]
        if query.since_id is not None:
            where.append("id>?")
            args.append(query.since_id)
        if query.since_sq is not None:
            where.append("sequence>?")
            args.append(query.since_sq)
        if query.ids is not None:
            where.append(f"id IN ({','.join('?' * len(query.ids))})" if query.ids else "0")
            args.extend(query.ids)
        for fld, stored in query.filters:
            where.append(_filter_sql(stored))
            args.append(f"$.{fld.id}")
            if stored is not None:
                args.append(_filter_arg(stored))
        sql = f"SELECT {_ROW_COLUMNS} FROM records WHERE {' AND '.join(where)}"  # noqa: S608  # nosec B608
        sql += " ORDER BY " + _order_sql(query, args)
        sql += " LIMIT ? OFFSET ?"
        skip = query.offset if query.offset is not None else query.page * query.per_page
        args += [query.per_page, skip]
        with self.lock:
            return [_row(r) for r in self.conn.execute(sql, args)]

    def find(self, table: Table, filters: tuple[tuple[Field, Any], ...]) -> Row | None:
        rows = self.list_records(table, ListQuery(per_page=1, filters=filters))
        return rows[0] if rows else None

    def rows(self, table: Table) -> TableRows:
        """Every row of a table, cached until the table changes."""
        with self.lock:
            # Every create, update and delete logs a higher seq for its table.
            seq = int(
                self.conn.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM changes WHERE tkey=?", (table.key,)
                ).fetchone()[0]
            )
            cached = self._cache.get(table.key)
            if cached is not None and cached[0] == seq:
                return cached[1]
            rows = [
                _row(r)
                for r in self.conn.execute(
                    f"SELECT {_ROW_COLUMNS} FROM records WHERE tkey=? ORDER BY id",  # noqa: S608  # nosec B608
                    (table.key,),
                )
            ]
            result = TableRows(rows, {r.id: r for r in rows})
            self._cache[table.key] = (seq, result)
            return result

    def record_json(
        self,
        table: Table,
        row: Row,
        style_ids: bool = False,
        choice_ids: bool = False,
        epoch_dates: bool = False,
    ) -> dict[str, Any]:
        """A record as the API answers it (null and formula fields left out).

        ``epoch_dates`` sends date fields as epoch milliseconds (a fault).
        """
        fields: dict[str, Any] = {}
        for fld in table.fields:
            stored = row.data.get(fld.id)
            if stored is not None and fld.type != "formula":
                value = to_json(fld, stored, choice_ids)
                if epoch_dates and fld.type == "date":
                    value = epoch_ms(stored)
                fields[fld.id if style_ids else fld.name] = value
        return {
            "id": row.id,
            "sequence": row.sequence,
            "createdAt": row.created_at,
            "createdBy": row.created_by,
            "modifiedAt": row.modified_at,
            "modifiedBy": row.modified_by,
            "fields": fields,
        }

    # -- writing records -------------------------------------------------------
    def convert(self, table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
        """Validate written fields; keys become field ids, values stored forms."""
        if not isinstance(values, Mapping):
            raise BadRequest("'fields' must be an object")
        out: dict[str, Any] = {}
        for key, value in values.items():
            fld = table.field(key)
            if fld is None:
                raise BadRequest(f"unknown field {key!r} in table {table.name!r}")
            if fld.type == "formula":
                raise Unprocessable(f"field {fld.name!r} is a formula and cannot be written")
            try:
                out[fld.id] = to_storage(fld, value)
            except FieldValueError as exc:
                raise Unprocessable(str(exc)) from None
        return out

    def _check_references(self, db: Database, table: Table, data: Mapping[str, Any]) -> None:
        for fid, value in data.items():
            fld = table.field(fid)
            if fld is None or fld.type != "reference" or value is None:
                continue
            target = self.table(db, fld.ref_table or "")
            exists = self.conn.execute(
                "SELECT 1 FROM records WHERE tkey=? AND id=?", (target.key, value)
            ).fetchone()
            if not exists:
                raise Unprocessable(
                    f"field {fld.name!r}: no record {value} in table {target.name!r}"
                )

    def _bump(self, db: Database) -> int:
        self.conn.execute("UPDATE dbs SET seq = seq + 1 WHERE key=?", (db.key,))
        return self.seq(db)

    def _log(self, db: Database, seq: int, table: Table, rid: int, op: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO changes(db_key, seq, tkey, rid, op) VALUES (?, ?, ?, ?, ?)",
            (db.key, seq, table.key, rid, op),
        )

    def save(
        self, db: Database, table: Table, items: Sequence[tuple[int | None, Mapping[str, Any]]]
    ) -> list[Row]:
        """Create (id None) or partially update records, all in one transaction."""
        with self.transaction():
            converted = [
                (rid, _numbered(len(items), i, self.convert, table, values))
                for i, (rid, values) in enumerate(items)
            ]
            return [
                _numbered(len(items), i, self._save_one, db, table, rid, data)
                for i, (rid, data) in enumerate(converted)
            ]

    def _save_one(self, db: Database, table: Table, rid: int | None, data: dict[str, Any]) -> Row:
        self._check_references(db, table, data)
        now = self.timestamp()
        if rid is None:
            # Like Ninox, "required" is a hint for forms; the API does not enforce it.
            merged = {k: v for k, v in data.items() if v is not None}
            rid = int(
                self.conn.execute("SELECT next_id FROM tbls WHERE key=?", (table.key,)).fetchone()[
                    0
                ]
            )
            self.conn.execute("UPDATE tbls SET next_id=? WHERE key=?", (rid + 1, table.key))
            seq = self._bump(db)
            row = Row(rid, seq, now, self.user, now, self.user, merged)
            self.conn.execute(
                _INSERT,
                (rid, seq, now, self.user, now, self.user, _dump(merged), table.key),
            )
            self._log(db, seq, table, rid, "create")
            return row
        existing = self.get(table, rid)
        merged = dict(existing.data)
        for key, value in data.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        seq = self._bump(db)
        self.conn.execute(
            "UPDATE records SET sequence=?, modified_at=?, modified_by=?, data=? "
            "WHERE tkey=? AND id=?",
            (seq, now, self.user, _dump(merged), table.key, rid),
        )
        self._log(db, seq, table, rid, "update")
        return Row(rid, seq, existing.created_at, existing.created_by, now, self.user, merged)

    def delete(self, db: Database, table: Table, ids: Sequence[int]) -> None:
        """Delete records (and their files); any unknown id → 404, nothing deleted."""
        with self.transaction() as conn:
            for rid in ids:
                self.get(table, rid)
                conn.execute("DELETE FROM records WHERE tkey=? AND id=?", (table.key, rid))
                conn.execute("DELETE FROM files WHERE tkey=? AND rid=?", (table.key, rid))
                self._log(db, self._bump(db), table, rid, "delete")

    def bulk_insert(
        self, db: Database, table: Table, items: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Fast create of many records (validated, references unchecked), one transaction."""
        with self.transaction() as conn:
            converted = [self.convert(table, values) for values in items]
            start = int(
                conn.execute("SELECT next_id FROM tbls WHERE key=?", (table.key,)).fetchone()[0]
            )
            first_seq = self.seq(db) + 1
            now = self.timestamp()
            ids = list(range(start, start + len(converted)))
            conn.executemany(
                _INSERT,
                [
                    (rid, first_seq + i, now, self.user, now, self.user, _dump(data), table.key)
                    for i, (rid, data) in enumerate(zip(ids, converted, strict=True))
                ],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO changes(db_key, seq, tkey, rid, op) "
                "VALUES (?, ?, ?, ?, 'create')",
                [(db.key, first_seq + i, table.key, rid) for i, rid in enumerate(ids)],
            )
            conn.execute("UPDATE tbls SET next_id=? WHERE key=?", (start + len(ids), table.key))
            conn.execute("UPDATE dbs SET seq=? WHERE key=?", (first_seq + len(ids) - 1, db.key))
        return ids

    # -- change feed -----------------------------------------------------------
    def changes(
        self, db: Database, since: int, table: Table | None = None, rid: int | None = None
    ) -> list[tuple[int, Table, int, str, Row | None]]:
        """Net changes after ``since``: the latest change of each record, by sequence."""
        sql = "SELECT seq, tkey, rid, op FROM changes WHERE db_key=? AND seq>?"
        args: list[Any] = [db.key, since]
        if table is not None:
            sql += " AND tkey=?"
            args.append(table.key)
        if rid is not None:
            sql += " AND rid=?"
            args.append(rid)
        out: list[tuple[int, Table, int, str, Row | None]] = []
        with self.lock:
            for seq, tkey, record_id, op in self.conn.execute(sql + " ORDER BY seq", args):
                tbl = db.table_by_key(tkey)
                if tbl is None:
                    continue
                row = None if op == "delete" else self.record(tbl, record_id)
                out.append((seq, tbl, record_id, op, row))
        return out

    def touch(self, db: Database, table: Table, rid: int, changes: Mapping[str, Any]) -> Row:
        """Update stored field values directly (already converted), bumping the sequence."""
        with self.transaction():
            return self._save_one(db, table, rid, dict(changes))


def _numbered(count: int, index: int, func: Callable[..., Any], *args: Any) -> Any:
    """Call ``func``; in a batch, an error names the item that caused it."""
    try:
        return func(*args)
    except ApiError as exc:
        if count > 1:
            exc.message = f"item {index}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _filter_sql(stored: Any) -> str:
    if stored is None:
        return "json_extract(data, ?) IS NULL"
    return "json_extract(data, ?) = ?"


def _filter_arg(stored: Any) -> Any:
    if isinstance(stored, list):
        return json.dumps(stored, separators=(",", ":"))
    return stored


def _order_sql(query: ListQuery, args: list[Any]) -> str:
    direction = "DESC" if query.desc else "ASC"
    if query.new:
        return "id DESC"
    if query.updated:
        return "modified_at DESC, sequence DESC"
    if query.order is not None:
        args.append(f"$.{query.order.id}")
        value = "json_extract(data, ?)"
        if query.order.type == "number":
            value = f"CAST({value} AS REAL)"
        return f"{value} {direction}, id {direction}"
    return f"id {direction}"
