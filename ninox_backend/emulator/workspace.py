"""The ``workspace`` dialect: Ninox's newer workspace API, as its OpenAPI description shows it.

Source: api-evangelist/ninox, ``openapi/ninox-{modules,tables,records}-api-openapi.yml``
(a third party's copy, ``servers: []``), quoted where relied on:

- routes ``/api/v1/workspace/{workspaceId}/modules[/{moduleName}[/tables[/{tableName}
  [/records]]]]``; the emulator maps a workspace to a team and a module to a database
  (by id), and a table is named as in the classic API (name or id);
- ``GET …/records``: ``limit`` "Maximum number of rows to return (1-100)", ``offset``
  "Number of rows to skip (starts with 0)", ``filter`` "Filter conditions as a JSON
  string (e.g., {"email": "test@example.com"})", ``sort`` "Field name to sort by",
  ``fields`` "Comma-separated list of field names to include"; reply
  ``{"data": [{"id": "1", "values": {...}}], "page_info": {"has_more", "limit", "offset"}}``
  with string ids;
- ``POST …/records`` ``{"records": [{field: value}]}`` → 201 ``{"data": {"ids": ["101"]}}``;
- ``PATCH …/records`` ``{"records": [{"id": 1, field: value}]}`` → ``{"data": {"updatedIds"}}``,
  "transactional — if any record fails validation or does not exist, all changes are
  rolled back";
- ``DELETE …/records`` ``{"records": [101, "102"]}`` → ``{"data": {"deletedIds"}}``,
  rolled back if any id is unknown;
- errors ``{"error": {"message": "..."}}`` (``ErrorResponse``).

Where the description is silent the emulator picks the least convenient plausible
reading, as the ``docs`` dialect does: a ``filter`` key that names no field is
ignored (so the filter matches more than asked), a value its field cannot hold
matches nothing, ``limit`` defaults to 100. Formula (``function``) fields are not
sent with records. There is no ``sinceSq``, change feed, NX query or record-by-id
endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import jsonutil
from .errors import BadRequest, NotFound, Unprocessable
from .schema import Database, Field, Table
from .store import ListQuery, Row
from .values import lenient_filters, to_json
from .wire import Request, Response

if TYPE_CHECKING:
    from .app import App

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
_MODULE = "{workspace}/modules/{module}"
_TABLE = _MODULE + "/tables/{table}"

#: The emulator's field types as the tables API's ``type`` enum names them.
WORKSPACE_TYPES = {
    "text": "string",
    "email": "string",
    "phone": "string",
    "url": "string",
    "html": "html",
    "number": "number",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "timeinterval": "timeinterval",
    "appointment": "appointment",
    "boolean": "boolean",
    "choice": "choice",
    "multi": "multi",
    "location": "string",
    "reference": "reference",
    "file": "file",
    "image": "file",
    "formula": "function",
}
_VARIANTS = {"email": "email", "phone": "phone", "url": "url", "location": "location"}


def workspace_routes() -> list[tuple[str, str, Callable[..., Any], bool]]:
    """(method, path pattern under ``/api/v1/workspace``, handler, writes)."""
    return [
        ("GET", "{workspace}/modules", modules, False),
        ("GET", _MODULE, module, False),
        ("GET", _MODULE + "/tables", tables, False),
        ("GET", _TABLE, table, False),
        ("GET", _TABLE + "/records", list_records, False),
        ("POST", _TABLE + "/records", create_records, True),
        ("PATCH", _TABLE + "/records", update_records, True),
        ("DELETE", _TABLE + "/records", delete_records, True),
    ]


# -- helpers ------------------------------------------------------------------------
def _database(app: App, workspace: str, module: str) -> Database:
    try:
        app.store.team(workspace)
    except NotFound:
        raise NotFound(f"workspace {workspace!r} not found") from None
    try:
        return app.store.database(workspace, module)
    except NotFound:
        raise NotFound(f"module {module!r} not found") from None


def _table(app: App, workspace: str, module: str, name: str) -> tuple[Database, Table]:
    database = _database(app, workspace, module)
    return database, app.store.table(database, name)


def _field_json(fld: Field, tables_by_id: dict[str, Table]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": fld.name, "type": WORKSPACE_TYPES[fld.type]}
    if fld.type in _VARIANTS:
        item["variant"] = _VARIANTS[fld.type]
    if fld.required:
        item["required"] = True
    if fld.options:
        item["options"] = [
            {"id": str(o.id), "name": o.caption, "order": i} for i, o in enumerate(fld.options)
        ]
    if fld.ref_table:
        target = tables_by_id.get(fld.ref_table)
        item["refTableId"] = target.id if target else fld.ref_table
    if fld.formula:
        item["expression"] = fld.formula
    return item


def _table_json(t: Table, database: Database) -> dict[str, Any]:
    by_id = {x.id: x for x in database.tables}
    return {
        "name": t.name,
        "labels": {"": t.name},
        "fields": [_field_json(f, by_id) for f in t.fields],
    }


def _values(app: App, tbl: Table, row: Row, only: set[str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for fld in tbl.fields:
        if fld.type == "formula" or (only is not None and fld.name not in only):
            continue
        stored = row.data.get(fld.id)
        if stored is None:
            values[fld.name] = None
            continue
        value = to_json(fld, stored)
        if fld.type == "datetime" and isinstance(value, str):
            value += "Z"  # the description's timestamps carry the zone: '2024-02-15T13:45:30Z'
        values[fld.name] = value
    return values


def _int(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bounds = f"{low}-{high}" if high is not None else f"at least {low}"
        raise BadRequest(f"{name} must be {bounds}, got {value}")
    return value


def _filter(tbl: Table, raw: str) -> tuple[tuple[Field, Any], ...] | None:
    """The ``filter`` parameter by field name; None matches nothing. Unknown keys: ignored."""
    parsed = jsonutil.loads_param(raw, "filter must be a JSON object")
    if not isinstance(parsed, dict):
        raise BadRequest("filter must be a JSON object of field name: value")
    return lenient_filters((_by_name(tbl, str(k)), v) for k, v in parsed.items())


def _by_name(tbl: Table, name: str) -> Field | None:
    return next((f for f in tbl.fields if f.name == name), None)


def _records_body(request: Request) -> list[Any]:
    body = request.json()
    if not isinstance(body, dict) or set(body) != {"records"}:
        raise BadRequest('body must be {"records": [...]}')
    records = body["records"]
    if not isinstance(records, list) or not records:
        raise BadRequest("records must be a non-empty array")
    return records


def _fields(tbl: Table, item: Any, index: int) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadRequest(f"records[{index}] must be an object of field name: value")
    values = {k: v for k, v in item.items() if k != "id"}
    for key in values:
        if _by_name(tbl, key) is None:
            raise BadRequest(f"records[{index}]: unknown field {key!r} in table {tbl.name!r}")
    return values


def _positive_id(value: Any, index: int) -> int:
    if isinstance(value, bool):
        raise BadRequest(f"records[{index}]: id must be a positive integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"records[{index}]: id must be a positive integer") from None
    if number <= 0 or str(number) != str(value).strip():
        raise BadRequest(f"records[{index}]: id must be a positive integer")
    return number


def _exists(app: App, tbl: Table, ids: list[int]) -> None:
    for rid in ids:
        if app.store.record(tbl, rid) is None:
            raise NotFound(f"record {rid} not found in table {tbl.name!r}")


def _save(app: App, database: Database, tbl: Table, parsed: list[tuple[int | None, Any]]) -> Any:
    """One transaction; a value its field cannot hold is a 400, as the description lists
    for writes (it has no 422): "if any record fails validation … all changes are rolled
    back"."""
    try:
        return app.store.save(database, tbl, parsed)
    except Unprocessable as exc:
        raise BadRequest(exc.message) from None


# -- modules and tables ---------------------------------------------------------------
def modules(app: App, request: Request, workspace: str) -> Any:
    try:
        databases = app.store.databases(workspace)
    except NotFound:
        raise NotFound(f"workspace {workspace!r} not found") from None
    return {"data": [{"name": d.id, "labels": {"": d.name}} for d in databases]}


def module(app: App, request: Request, workspace: str, module: str) -> Any:
    database = _database(app, workspace, module)
    return {
        "data": {
            "name": database.id,
            "labels": {"": database.name},
            "tables": [_table_json(t, database) for t in database.tables],
        }
    }


def tables(app: App, request: Request, workspace: str, module: str) -> Any:
    database = _database(app, workspace, module)
    return {"data": [_table_json(t, database) for t in database.tables]}


def table(app: App, request: Request, workspace: str, module: str, table: str) -> Any:
    database, tbl = _table(app, workspace, module, table)
    return {"data": _table_json(tbl, database)}


# -- records --------------------------------------------------------------------------
def list_records(app: App, request: Request, workspace: str, module: str, table: str) -> Any:
    _, tbl = _table(app, workspace, module, table)
    limit = _int(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, None)
    order = None
    if request.query.get("sort"):
        order = _by_name(tbl, request.query["sort"])
        if order is None:
            raise BadRequest(f"unknown field {request.query['sort']!r} in sort")
    only = None
    if request.query.get("fields"):
        only = {name.strip() for name in request.query["fields"].split(",") if name.strip()}
    filters = _filter(tbl, request.query.get("filter", ""))
    if app.faults.strikes("filter_ignored"):
        filters = ()
    elif any(f.type == "reference" for f, _ in filters or ()) and app.faults.strikes(
        "filter_ref_unmatched"
    ):
        filters = None  # the link read as something other than the record id: no match
    rows: list[Row] = []
    if filters is not None:
        rows = app.store.list_records(
            tbl, ListQuery(per_page=limit + 1, order=order, filters=filters, offset=offset)
        )
    page = rows[:limit]
    return {
        "data": [{"id": str(row.id), "values": _values(app, tbl, row, only)} for row in page],
        "page_info": {"has_more": len(rows) > limit, "limit": limit, "offset": offset},
    }


def create_records(app: App, request: Request, workspace: str, module: str, table: str) -> Any:
    database, tbl = _table(app, workspace, module, table)
    items = _records_body(request)
    parsed: list[tuple[int | None, Any]] = [
        (None, _fields(tbl, item, i)) for i, item in enumerate(items)
    ]
    rows = _save(app, database, tbl, parsed)
    return Response.json({"data": {"ids": [str(r.id) for r in rows]}}, 201)


def update_records(app: App, request: Request, workspace: str, module: str, table: str) -> Any:
    database, tbl = _table(app, workspace, module, table)
    items = _records_body(request)
    parsed: list[tuple[int | None, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item:
            raise BadRequest(f"records[{i}] must include an id")
        parsed.append((_positive_id(item["id"], i), _fields(tbl, item, i)))
    _exists(app, tbl, [rid for rid, _ in parsed if rid is not None])
    rows = _save(app, database, tbl, parsed)
    return {"data": {"updatedIds": [str(r.id) for r in rows]}}


def delete_records(app: App, request: Request, workspace: str, module: str, table: str) -> Any:
    database, tbl = _table(app, workspace, module, table)
    items = _records_body(request)
    ids = [_positive_id(item, i) for i, item in enumerate(items)]
    app.store.delete(database, tbl, ids)
    return {"data": {"deletedIds": [str(i) for i in ids]}}
