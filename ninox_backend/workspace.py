"""The workspace API: Ninox's newer public API, behind the classic client's interface.

Ninox's current platform has a second public API (per-workspace API keys,
``/api/v1/workspace/{workspaceId}/modules/{module}/tables/{table}/records``). Its
only description is a third party's copy of its OpenAPI (api-evangelist/ninox,
``openapi/ninox-*-api-openapi.yml``, ``servers: []``), so every shape below is
**seen**, not documented, and the client tolerates what it cannot settle and fails
safe where it matters:

- records come as ``{"data": [{"id": "1", "values": {...}}], "page_info":
  {"has_more", "limit", "offset"}}``; ids are strings ("id: type: string") and are
  read as positive integers, anything else is refused (``NinoxError``, permanent);
- paging is ``limit`` ("Maximum number of rows to return (1-100)") with ``offset``,
  read until a page is empty or ``has_more`` is false, and never past a page that
  repeats the previous one (``NinoxPagingError``);
- ``filter`` is "Filter conditions as a JSON string (e.g., {"email":
  "test@example.com"})", keyed by field **name**. What it does with a key it does not
  know, or with a reference, is not described: every record a filtered read returns
  is compared with the asked values, and one that differs raises
  :class:`~ninox_backend.exceptions.NinoxLookupUnreliable`, never "not found";
- creates answer ``{"data": {"ids": [...]}}`` and ``PATCH`` updates ``{"data":
  {"updatedIds": [...]}}``: no record comes back, and there is no endpoint that reads
  one record by id. The :class:`Record` returned by a write is therefore the written
  values under the id the reply named (a reply that names another id, or none,
  raises); callers that must know what Ninox holds look it up again by their key;
- there is no ``sinceSq``, change feed or NX ``query``: those calls raise
  :class:`~ninox_backend.exceptions.NinoxUnsupported` (a permanent ``NinoxError``, so
  callers that handle a refused query handle it alike), and the sync uses
  :class:`~ninox_backend.workspace_sync.WorkspaceSyncEngine` (full reads by offset,
  scoped reads by an equality filter).

Names: the workspace API addresses tables and fields by **name**; the schema built
from ``GET …/tables`` uses each name as its id too, so the portal's mapping
(``NINOX_SCHEMA``) names them as they are named in the module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .client import NinoxClient
from .database import Database
from .exceptions import NinoxError, NinoxPagingError, NinoxUnsupported
from .schema import Schema, TableSchema, parse_field
from .table import Table
from .types import Record, fields_to_ninox, to_ninox

__all__ = [
    "WORKSPACE_MAX_LIMIT",
    "WorkspaceClient",
    "WorkspaceDatabase",
    "WorkspaceTable",
    "parse_workspace_tables",
]

#: ``limit``: "Maximum number of rows to return (1-100)"
WORKSPACE_MAX_LIMIT = 100

MODULE_PATH = "/api/v1/workspace/{workspace}/modules/{module}"
MODULES = "/api/v1/workspace/{workspace}/modules"
TABLES = "/tables"
RECORDS = "/tables/{table}/records"

#: the tables API's ``type`` enum → the client's names (the rest via ``normalize_type``)
_TYPES = {"function": "formula", "dchoice": "choice", "dmulti": "multi"}


class WorkspaceClient(NinoxClient):
    """A client for the workspace API; same request path (auth, limiter, retries, call log).

    >>> client = WorkspaceClient(token="...", base_url="https://<your host>")
    >>> grants = client.database("5rdco4s18swu", "grants").table("grants").all()

    ``base_url`` is the host without ``/api/v1`` (the description has no server address).
    """

    def __repr__(self) -> str:
        return f"WorkspaceClient(base_url={self.base_url!r}, token='***')"

    def __enter__(self) -> WorkspaceClient:
        return self

    def teams(self) -> Any:
        raise NinoxUnsupported("the workspace API has no teams: list modules instead")

    def team(self, team_id: str) -> Any:
        raise NinoxUnsupported("the workspace API has no teams: list modules instead")

    def databases(self, team_id: str) -> Any:
        raise NinoxUnsupported("the workspace API has no databases: list modules instead")

    def modules(self, workspace_id: str) -> list[str]:
        """``GET /api/v1/workspace/{workspaceId}/modules``: the modules' names."""
        data = self.request("GET", MODULES, path_params={"workspace": workspace_id})
        items = _data(data, list, "GET", MODULES)
        return [str(m["name"]) for m in items if isinstance(m, Mapping) and "name" in m]

    def database(self, team_id: str, database_id: str) -> WorkspaceDatabase:
        """A handle on one module of a workspace (``team_id`` is the workspace id)."""
        return WorkspaceDatabase(self, team_id, database_id)


class WorkspaceDatabase(Database):
    """One module of a workspace, with the classic :class:`Database`'s schema cache."""

    api = "workspace"
    base_path = MODULE_PATH  # requests continue ``…/modules/{module}``

    @property
    def path_params(self) -> dict[str, str]:
        return {"workspace": self.team_id, "module": self.id}

    def schema(self, refresh: bool = False) -> Schema:
        """The module's tables and fields (``GET …/tables``), cached like the classic schema."""
        cached = self.client._cached_schema(self._key)
        if cached is not None and not refresh and self.schema_is_fresh():
            return cached
        data = self.request("GET", TABLES)
        schema = Schema(parse_workspace_tables(data), raw=data, fetched_at=self.client.now())
        self.client._store_schema(self._key, schema)
        return schema

    def use_schema(self, schema: Schema | Any, fetched_at: Any = None) -> Schema:
        if not isinstance(schema, Schema):
            schema = Schema(parse_workspace_tables(schema), raw=schema, fetched_at=fetched_at)
            self.client._store_schema(self._key, schema)
            return schema
        return super().use_schema(schema, fetched_at)

    def tables(self) -> list[TableSchema]:
        return list(self.schema(refresh=True).tables)

    def table_info(self, name_or_id: str) -> TableSchema:
        return self.schema(refresh=True).table(name_or_id)

    def table(self, name_or_id: str) -> WorkspaceTable:
        """A handle on a table by name. No call is made."""
        return WorkspaceTable(self, name_or_id)

    def query(self, expr: Any) -> Any:
        raise NinoxUnsupported("the workspace API has no NX query", path=MODULE_PATH)

    def query_get(self, expr: Any) -> Any:
        raise NinoxUnsupported("the workspace API has no NX query", path=MODULE_PATH)

    def exec(self, expr: Any) -> Any:
        raise NinoxUnsupported("the workspace API has no NX exec", path=MODULE_PATH)

    def changes(self, since_sq: int | None = None, *, strict: bool = False) -> Any:
        raise NinoxUnsupported("the workspace API has no change feed", path=MODULE_PATH)


class WorkspaceTable(Table):
    """A table of a module: paged and filtered reads, verified lookups, creates, updates."""

    database: WorkspaceDatabase

    def iter_pages(
        self,
        per_page: int = WORKSPACE_MAX_LIMIT,
        since_sq: int | None = None,
        since_id: int | None = None,
        order: str | None = None,
        desc: bool = False,
        filters: Mapping[str, Any] | None = None,
        *,
        server_cap: int | None = None,
        **unsupported: Any,
    ) -> Iterator[list[Record]]:
        """Pages of ``limit``/``offset``; ``filters`` by field name, every record verified.

        ``since_sq``, ``since_id``, ``desc`` and the classic flags do not exist here and
        raise :class:`NinoxUnsupported` rather than being dropped silently.
        """
        if since_sq is not None or since_id is not None or desc or any(unsupported.values()):
            raise NinoxUnsupported(
                "the workspace API reads by limit/offset, filter and sort only (no sinceSq)",
                method="GET",
                path=RECORDS.replace("{table}", self.key),
            )
        schema = self.schema
        limit = max(1, min(int(per_page), server_cap or WORKSPACE_MAX_LIMIT, WORKSPACE_MAX_LIMIT))
        params: dict[str, Any] = {"limit": limit}
        if filters:
            params["filter"] = self._filters_by_name(filters, schema)
        if order:
            params["sort"] = schema.field(order).name
        path = RECORDS.replace("{table}", schema.name)
        offset = 0
        previous: list[int] | None = None
        while True:
            data = self._request("GET", RECORDS, params={**params, "offset": offset})
            rows = _data(data, list, "GET", path)
            records = [self._row(row, schema, path) for row in rows]
            ids = [r.id for r in records]
            if records and ids == previous:
                raise NinoxPagingError(
                    f"the page at offset {offset} repeats the previous one "
                    "(the server ignores offset?)",
                    method="GET",
                    path=path,
                )
            if filters:
                for record in records:
                    self._verify(record, filters, schema, "the filtered read", "GET", path)
            if records:
                yield records
            page_info = data.get("page_info") if isinstance(data, Mapping) else None
            has_more = page_info.get("has_more") if isinstance(page_info, Mapping) else None
            # No has_more (a shape we did not expect): read on until an empty page.
            if not records or has_more is False:
                return
            previous = ids
            offset += len(records)

    def iter_records(
        self, per_page: int = WORKSPACE_MAX_LIMIT, *args: Any, **kwargs: Any
    ) -> Iterator[Record]:
        for page in self.iter_pages(per_page, *args, **kwargs):
            yield from page

    def get(self, record_id: int) -> Record:
        raise NinoxUnsupported(
            "the workspace API has no endpoint that reads one record by id; "
            "look it up by a field of your own with find()",
            method="GET",
            path=RECORDS.replace("{table}", self.key),
        )

    def first(self, filters: Mapping[str, Any], *, form: str = "filter") -> Record | None:
        """The first record whose fields equal ``filters`` (a filtered read), verified; or None."""
        for page in self.iter_pages(WORKSPACE_MAX_LIMIT, filters=filters):
            return page[0]
        return None

    def find(self, filters: Mapping[str, Any]) -> list[Record]:
        """Every record whose fields equal ``filters``: a filtered read, each record verified.

        A record that does not carry every asked value (a filter the server ignored or
        read otherwise) raises :class:`NinoxLookupUnreliable`, never "not found".
        """
        if not filters:
            raise ValueError("find() needs at least one filter")
        return [record for page in self.iter_pages(filters=filters) for record in page]

    def create(self, fields: Mapping[str, Any]) -> Record:
        """``POST …/records``; the reply names the new id only. Never retried."""
        return self.save_many([{"fields": fields}])[0]

    def save_many(self, items: Iterable[Mapping[str, Any] | Record]) -> list[Record]:
        """Creates (no ``id``, ``POST``) or updates (``id``, ``PATCH``); never mixed in one call."""
        entries = []
        for item in items:
            if isinstance(item, Record):
                item = {"id": item.id, "fields": item.fields}
            entries.append((item.get("id"), dict(item.get("fields") or {})))
        if not entries:
            return []
        if all(rid is None for rid, _ in entries):
            return self._write("POST", None, [fields for _, fields in entries])
        ids = [int(rid) for rid, _ in entries if rid is not None]
        if len(ids) != len(entries):
            raise ValueError("the workspace API creates and updates in separate calls")
        return self._write("PATCH", ids, [f for _, f in entries])

    def update(self, record_id: int, fields: Mapping[str, Any]) -> Record:
        """``PATCH …/records`` with ``{"records": [{"id": id, ...}]}``: the given fields only."""
        return self._write("PATCH", [int(record_id)], [dict(fields)])[0]

    def delete(self, record_id: int) -> None:
        self.delete_many([record_id])

    def delete_many(self, ids: Iterable[int]) -> None:
        """``DELETE …/records`` ``{"records": [ids]}``, one transaction on the server."""
        body = [int(i) for i in ids]
        if body:
            self._request("DELETE", RECORDS, json={"records": body})

    # ---- helpers ----------------------------------------------------------------------

    def _filters_by_name(self, filters: Mapping[str, Any], schema: TableSchema) -> dict[str, Any]:
        return {schema.field(n).name: to_ninox(v, schema.field(n).type) for n, v in filters.items()}

    def _row(self, row: Any, schema: TableSchema, path: str) -> Record:
        if not isinstance(row, Mapping) or not isinstance(row.get("values"), Mapping):
            raise NinoxError(
                'a record is not {"id", "values"}', method="GET", path=path, permanent=True
            )
        record_id = _positive_id(row.get("id"), "GET", path)
        values = {k: v for k, v in row["values"].items() if v is not None}
        return self._record({"id": record_id, "fields": values}, schema)

    def _write(
        self, method: str, ids: list[int] | None, fields: list[dict[str, Any]]
    ) -> list[Record]:
        schema = self.schema
        body = []
        for index, values in enumerate(fields):
            entry = fields_to_ninox(values, schema.field_map)
            body.append({"id": ids[index], **entry} if ids is not None else entry)
        idempotent = method == "PATCH"  # setting values twice is harmless; a create is not
        data = self._request(method, RECORDS, json={"records": body}, idempotent=idempotent)
        path = RECORDS.replace("{table}", schema.name)
        key = "updatedIds" if method == "PATCH" else "ids"
        reply = _data(data, Mapping, method, path).get(key)
        if not isinstance(reply, list) or len(reply) != len(body):
            raise NinoxError(
                f"the reply does not name the {len(body)} record(s) written ({key!r})",
                method=method,
                path=path,
                permanent=True,
            )
        written = [_positive_id(i, method, path) for i in reply]
        if ids is not None and written != ids:
            raise NinoxError(
                f"the update answered for records {written}, not {ids}",
                method=method,
                path=path,
                permanent=True,
            )
        records = []
        for record_id, values in zip(written, fields, strict=True):
            entry = fields_to_ninox(values, schema.field_map)
            record = self._record({"id": record_id, "fields": entry}, schema)
            records.append(record)
        return records


def _data(data: Any, kind: type, method: str, path: str) -> Any:
    """The ``data`` member of a reply, of the expected kind; else a permanent ``NinoxError``."""
    inner = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(inner, kind):
        raise NinoxError(
            f"expected a reply {{'data': {kind.__name__}}}, got {type(data).__name__}",
            method=method,
            path=path,
            permanent=True,
        )
    return inner


def _positive_id(value: Any, method: str, path: str) -> int:
    text = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not text.isdigit() or int(text) <= 0:
        raise NinoxError(
            f"a record id is not a positive integer: {value!r}",
            method=method,
            path=path,
            permanent=True,
        )
    return int(text)


def parse_workspace_tables(data: Any) -> tuple[TableSchema, ...]:
    """The tables API's ``{"data": [{"name", "fields": [{"name", "type", ...}]}]}``.

    Tables and fields are addressed by name, so each name is its id too.
    """
    items = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise NinoxError(
            "the tables endpoint did not answer {'data': [...]}", path=TABLES, permanent=True
        )
    tables = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("name"):
            continue
        fields = []
        for spec in item.get("fields") or []:
            if not isinstance(spec, Mapping) or not spec.get("name"):
                continue
            kind = str(spec.get("type") or "")
            if kind == "string" and spec.get("variant") in ("email", "phone", "url"):
                kind = str(spec["variant"])  # a string "Field variant" names the text's kind
            fields.append(
                parse_field(
                    {
                        "id": spec["name"],
                        "name": spec["name"],
                        "type": _TYPES.get(kind, kind),
                        "required": spec.get("required", False),
                        "options": spec.get("options")
                        if isinstance(spec.get("options"), list)
                        else None,
                        "refTable": spec.get("refTableId"),
                        "formula": spec.get("expression"),
                    }
                )
            )
        name = str(item["name"])
        tables.append(TableSchema(id=name, name=name, fields=tuple(fields)))
    return tuple(tables)
