"""``Database``: one Ninox database, its cached schema, NX queries and its change feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .changes import ChangeSet, parse_changes, parse_changes_strictly
from .exceptions import NinoxNotFound
from .schema import Schema, TableSchema, parse_table
from .types import Record

if TYPE_CHECKING:
    from .client import NinoxClient
    from .table import Table

__all__ = ["Database"]

DB_PATH = "/teams/{team}/databases/{db}"


class Database:
    """A handle on ``/teams/{team}/databases/{db}``.

    The schema (tables, fields, types, names ↔ ids) is cached per client and
    re-read when it is older than ``client.schema_max_age`` seconds, when
    :meth:`schema` is called with ``refresh=True``, or after
    :meth:`invalidate_schema` (e.g. when a reply shows a field the cache lacks).
    """

    base_path = DB_PATH  # what :meth:`request`'s templates continue

    def __init__(self, client: NinoxClient, team_id: str, database_id: str) -> None:
        self.client = client
        self.team_id = str(team_id)
        self.id = str(database_id)

    def __repr__(self) -> str:
        return f"Database(team_id={self.team_id!r}, id={self.id!r})"

    @property
    def path_params(self) -> dict[str, str]:
        return {"team": self.team_id, "db": self.id}

    def request(
        self,
        method: str,
        template: str,
        *,
        path_params: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """A call under this database: ``template`` continues :attr:`base_path`
        (``/teams/{team}/databases/{db}``; a workspace module's ``…/modules/{module}``)."""
        params = {**self.path_params, **(path_params or {})}
        return self.client.request(method, self.base_path + template, path_params=params, **kwargs)

    # ---- schema -----------------------------------------------------------------------

    @property
    def _key(self) -> tuple[str, str]:
        return (self.team_id, self.id)

    def schema(self, refresh: bool = False) -> Schema:
        """The database's schema, from the cache when it is fresh (``GET …/databases/{db}``)."""
        cached = self.client._cached_schema(self._key)
        if cached is not None and not refresh and self.schema_is_fresh():
            return cached
        data = self.request("GET", "")
        now = self.client.now()
        if isinstance(data, Mapping) and isinstance(data.get("schema"), Mapping):
            schema = Schema.from_json(data, fetched_at=now)
        else:
            # No schema in the reply: build it from the tables endpoint instead.
            schema = Schema.from_json(self.request("GET", "/tables") or [], fetched_at=now)
        self.client._store_schema(self._key, schema)
        return schema

    def cached_schema(self) -> Schema | None:
        """The cached schema, however old, without a call."""
        return self.client._cached_schema(self._key)

    def schema_is_fresh(self) -> bool:
        cached = self.client._cached_schema(self._key)
        if cached is None or cached.fetched_at is None:
            return False
        age = (self.client.now() - cached.fetched_at).total_seconds()
        return 0 <= age < self.client.schema_max_age

    def use_schema(self, schema: Schema | Any, fetched_at: dt.datetime | None = None) -> Schema:
        """Prime the cache with a schema saved earlier (a :class:`Schema` or its raw JSON)."""
        if not isinstance(schema, Schema):
            schema = Schema.from_json(schema, fetched_at=fetched_at)
        elif fetched_at is not None:
            schema = Schema(schema.tables, schema.version, schema.seq, schema.raw, fetched_at)
        self.client._store_schema(self._key, schema)
        return schema

    def invalidate_schema(self) -> None:
        """Forget the cached schema; the next use re-reads it."""
        self.client._store_schema(self._key, None)

    def note_schema_version(self, version: Any = None, seq: Any = None) -> None:
        """A reply named the schema's version: drop the cache if it differs."""
        cached = self.cached_schema()
        if cached is None:
            return
        if (version is not None and version != cached.version) or (
            seq is not None and cached.seq is not None and int(seq) != cached.seq
        ):
            self.invalidate_schema()

    def note_unknown_fields(self) -> None:
        """A record showed a field the cache lacks: re-read the schema once per schema version."""
        cached = self.cached_schema()
        if cached is None:
            return
        marker = (cached.version, cached.seq)
        if self.client._unknown_field_marks.get(self._key) == marker:
            return
        self.client._unknown_field_marks[self._key] = marker
        self.invalidate_schema()

    # ---- tables -------------------------------------------------------------------------

    def tables(self) -> list[TableSchema]:
        """``GET …/tables``: every table with its typed fields."""
        return [parse_table(t) for t in self.request("GET", "/tables") or []]

    def table_info(self, name_or_id: str) -> TableSchema:
        """``GET …/tables/{table}``: one table with its typed fields."""
        data = self.request("GET", "/tables/{table}", path_params={"table": name_or_id})
        return parse_table(data)

    def table(self, name_or_id: str) -> Table:
        """A handle on a table, by name (``"Grants"``) or id (``"B"``). No call is made."""
        from .table import Table

        return Table(self, name_or_id)

    # ---- NX ---------------------------------------------------------------------------

    def query(self, expr: Any) -> Any:
        """``POST …/query``: the JSON value of a read-only NX expression (retried when safe).

        ``expr`` is NX text or an :mod:`ninox_backend.nx` expression. Numbers come
        back as ``Decimal``.
        """
        return self.request("POST", "/query", json={"query": str(expr)}, idempotent=True)

    def query_get(self, expr: Any) -> Any:
        """``GET …/query?query=``: the same as :meth:`query`, for servers that prefer GET."""
        return self.request("GET", "/query", params={"query": str(expr)})

    def exec(self, expr: Any) -> Any:
        """``POST …/exec``: run NX that may write. Never retried (it may have run)."""
        return self.request("POST", "/exec", json={"query": str(expr)}, idempotent=False)

    # ---- changes ----------------------------------------------------------------------

    def changes(self, since_sq: int | None = None, *, strict: bool = False) -> ChangeSet:
        """``GET …/changes?sinceSq=N``: what changed in the database after sequence N.

        ``strict=True`` accepts only a feed every change of which is understood
        (``NinoxSyncError`` otherwise); see :func:`~ninox_backend.changes.parse_changes_strictly`.
        """
        data = self.request("GET", "/changes", params={"sinceSq": since_sq})
        return self._parse_changes(data, since_sq, None, strict=strict)

    def _parse_changes(
        self, data: Any, since_sq: int | None, table: str | None, *, strict: bool = False
    ) -> ChangeSet:
        if isinstance(data, Mapping):
            self.note_schema_version(data.get("schemaVersion"), data.get("schemaSeq"))
        schema = self.schema()
        parse = parse_changes_strictly if strict else parse_changes
        return parse(
            data,
            since_sq=since_sq,
            table=table,
            read_record=lambda t, raw: self._read_record(schema, t, raw),
            resolve_table=lambda t: self._resolve(schema, t),
        )

    def _resolve(self, schema: Schema, table: str | None) -> tuple[str | None, str | None]:
        found = schema.find_table(table) if table is not None else None
        return (found.name, found.id) if found else (table, None)

    def _read_record(
        self, schema: Schema, table: str | None, raw: Mapping[str, Any]
    ) -> tuple[str | None, str | None, Record]:
        found = schema.find_table(table) if table is not None else None
        if found is None:
            return table, None, Record.from_json(raw, None, table)
        return found.name, found.id, Record.from_json(raw, found.field_map, found.id)

    def table_schema(self, name_or_id: str) -> TableSchema:
        """The cached schema of one table; re-reads the schema once if the table is unknown."""
        was_cached = self.cached_schema() is not None and self.schema_is_fresh()
        found = self.schema().find_table(name_or_id)
        if found is None and was_cached:
            found = self.schema(refresh=True).find_table(name_or_id)
        if found is None:
            raise NinoxNotFound(f"the database has no table {name_or_id!r}", path="/tables")
        return found
