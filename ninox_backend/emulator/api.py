"""The API's endpoints: one function per route, as listed in ``ninox-api.md``.

Where the dialects differ (see :mod:`.dialects`), a handler asks ``app.docs``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from . import files, jsonutil
from .dialects import SCHEMA_BASE_NAMES, SEED_002_TYPES
from .errors import BadRequest, NotFound
from .nxrun import run_nx
from .schema import Database, Field, Table
from .store import ListQuery, Row
from .values import FieldValueError, lenient_filters, to_storage
from .wire import Request, Response

if TYPE_CHECKING:
    from .app import App

MAX_PER_PAGE = 1000
#: ``docs``: the documents show a default of 100 and nothing above; cap there.
DOCS_MAX_PER_PAGE = 100
#: ``docs``: recorded Ninox schemas carry fractional layout numbers like this one.
FORM_WIDTH = Decimal("0.5")
_DB = "teams/{team}/databases/{db}"
_TABLE = _DB + "/tables/{table}"
_RECORD = _TABLE + "/records/{rid}"


def routes() -> list[tuple[str, str, Callable[..., Any], bool]]:
    """(method, path pattern, handler, writes) for every endpoint."""
    return [
        ("GET", "teams", teams, False),
        ("GET", "teams/{team}", team, False),
        ("GET", "teams/{team}/databases", databases, False),
        ("GET", _DB, database_schema, False),
        ("GET", _DB + "/tables", tables, False),
        ("GET", _TABLE, table, False),
        ("GET", _TABLE + "/records", list_records, False),
        ("POST", _TABLE + "/records", save_records, True),
        ("DELETE", _TABLE + "/records", delete_records, True),
        ("GET", _RECORD, get_record, False),
        ("PUT", _RECORD, put_record, True),
        ("DELETE", _RECORD, delete_record, True),
        ("GET", _TABLE + "/record", lookup, False),
        ("POST", _TABLE + "/record", lookup, False),
        ("GET", _DB + "/changes", db_changes, False),
        ("GET", _TABLE + "/changes", table_changes, False),
        ("GET", _RECORD + "/changes", record_changes, False),
        ("GET", _DB + "/query", query, False),
        ("POST", _DB + "/query", query, False),
        ("POST", _DB + "/exec", execute, True),
        ("GET", _RECORD + "/files", list_files, False),
        ("POST", _RECORD + "/files", upload_file, True),
        ("GET", _RECORD + "/files/{name}", download_file, False),
        ("DELETE", _RECORD + "/files/{name}", delete_file, True),
        ("GET", _RECORD + "/files/{name}/metadata", file_metadata, False),
        ("GET", _RECORD + "/files/{name}/thumb.jpg", file_thumb, False),
    ]


# -- helpers ------------------------------------------------------------------------
def _db(app: App, team: str, db: str) -> Database:
    return app.store.database(team, db)


def _table(app: App, team: str, db: str, table: str) -> tuple[Database, Table]:
    database = _db(app, team, db)
    return database, app.store.table(database, table)


def _record_id(text: str | int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise NotFound(f"record {text!r} not found") from None
    if isinstance(text, bool) or value <= 0:
        raise NotFound(f"record {text!r} not found")
    return value


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"parameter {name!r} must be an integer, got {raw!r}") from None


def _filters(table: Table, raw: Any) -> tuple[tuple[Field, Any], ...]:
    raw = jsonutil.loads_param(raw, "'filters' must be a JSON object")
    if not isinstance(raw, dict):
        raise BadRequest("'filters' must be a JSON object of field: value")
    out: list[tuple[Field, Any]] = []
    for key, value in raw.items():
        fld = table.field(key)
        if fld is None:
            raise BadRequest(f"unknown field {key!r} in filters of table {table.name!r}")
        if fld.type == "formula":
            raise BadRequest(f"field {fld.name!r} is a formula and cannot be filtered here")
        try:
            converted = to_storage(fld, value)
        except FieldValueError as exc:
            raise BadRequest(f"filter on {fld.name!r}: {exc}") from None
        out.append((fld, converted))
    return tuple(out)


def _docs_filters(table: Table, raw: Any) -> tuple[tuple[Field, Any], ...] | None:
    """``docs`` lookup filters: keys are field ids; anything else is ignored.

    Accepts seed 002's flat map and seed 004's ``{"filters": {...}}``. None means
    "matches nothing" (a value its field cannot hold); ``()`` matches every record.
    """
    raw = jsonutil.loads_param(raw, "filters must be a JSON object")
    if isinstance(raw, dict) and isinstance(raw.get("filters"), dict):
        raw = raw["filters"]
    if not isinstance(raw, dict):
        raise BadRequest("filters must be a JSON object of field id: value")
    return lenient_filters((table.field_by_id(str(k)), v) for k, v in raw.items())


def _docs_lookup(app: App, request: Request, tbl: Table, raw: Any) -> Any:
    filters = _docs_filters(tbl, raw)
    row = None if filters is None else app.store.find(tbl, filters)
    if row is None:
        raise NotFound("record not found")
    return _styled(app, request, tbl, row)


def _styled(app: App, request: Request, table: Table, row: Row) -> dict[str, Any]:
    style_ids = request.query.get("style", "") == "ids"
    choice_ids = request.query.get("choiceStyle", "") == "ids"
    return _record(app, table, row, style_ids, choice_ids)


def _record(
    app: App, table: Table, row: Row, style_ids: bool = False, choice_ids: bool = False
) -> dict[str, Any]:
    """Every record a reply carries goes through here (the date fault applies)."""
    epoch = app.faults.strikes("dates_epoch_ms") if _has_dates(table) else False
    return app.store.record_json(table, row, style_ids, choice_ids, epoch)


def _has_dates(table: Table) -> bool:
    return any(f.type == "date" for f in table.fields)


# -- teams, databases, tables ---------------------------------------------------------
def teams(app: App, request: Request) -> Any:
    return app.store.teams()


def team(app: App, request: Request, team: str) -> Any:
    return app.store.team(team)


def databases(app: App, request: Request, team: str) -> Any:
    return [{"id": d.id, "name": d.name} for d in app.store.databases(team)]


def _field_schema(order: int, fld: Field, docs: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "base": SCHEMA_BASE_NAMES[fld.type] if docs else fld.type,
        "caption": fld.name,
        "required": fld.required,
        "order": order,
    }
    if docs:
        data["formWidth"] = FORM_WIDTH
    if fld.options:
        data["values"] = {
            str(o.id): {"val": o.caption, "order": i} for i, o in enumerate(fld.options)
        }
    if fld.ref_table:
        data["refTypeId"] = fld.ref_table
    if fld.formula:
        data["fn"] = fld.formula
    return data


def database_schema(app: App, request: Request, team: str, db: str) -> Any:
    database = _db(app, team, db)
    types: dict[str, Any] = {}
    for t in database.tables:
        spec: dict[str, Any] = {"caption": t.name, "kind": "table"}
        if app.docs:
            spec["formWidth"] = FORM_WIDTH
        spec["fields"] = {f.id: _field_schema(i, f, app.docs) for i, f in enumerate(t.fields)}
        types[t.id] = spec
    schema = {
        "seq": app.store.seq(database),
        "version": app.store.version(database),
        "types": types,
    }
    return {"settings": {"name": database.name}, "schema": schema}


def _table_json(t: Table, docs: bool) -> dict[str, Any]:
    if docs:
        return {"id": t.id, "name": t.name, "fields": [_docs_field(f) for f in t.fields]}
    fields = []
    for f in t.fields:
        item: dict[str, Any] = {"id": f.id, "name": f.name, "type": f.type}
        if f.options:
            item["choices"] = [{"id": o.id, "caption": o.caption} for o in f.options]
        if f.ref_table:
            item["refTable"] = f.ref_table
        if f.formula:
            item["formula"] = f.formula
        if f.required:
            item["required"] = True
        fields.append(item)
    return {"id": t.id, "name": t.name, "fields": fields}


def _docs_field(f: Field) -> dict[str, Any]:
    # Seed 002's type table has no reference (nor file, image, formula): no type then.
    item: dict[str, Any] = {"id": f.id, "name": f.name}
    if f.type in SEED_002_TYPES:
        item["type"] = f.type
    return item


def tables(app: App, request: Request, team: str, db: str) -> Any:
    return [_table_json(t, app.docs) for t in _db(app, team, db).tables]


def table(app: App, request: Request, team: str, db: str, table: str) -> Any:
    return _table_json(_table(app, team, db, table)[1], app.docs)


# -- records --------------------------------------------------------------------------
def list_records(app: App, request: Request, team: str, db: str, table: str) -> Any:
    _, tbl = _table(app, team, db, table)
    if app.docs and request.query.get("filters"):
        # Seed 004: the GET form with filters "will be the same as" the lookup.
        return _docs_lookup(app, request, tbl, request.query["filters"])
    page = _int_param(request, "page", 0) or 0
    per_page = _int_param(request, "perPage", 100) or 100
    if page < 0 or per_page < 0:
        raise BadRequest("'page' and 'perPage' must not be negative")
    order = None
    if request.query.get("order"):
        order = tbl.field(request.query["order"])
        if order is None:
            raise BadRequest(f"unknown field {request.query['order']!r} in 'order'")
    ids = None
    if "ids" in request.query:
        try:
            ids = tuple(int(i) for i in request.query["ids"].split(",") if i.strip())
        except ValueError:
            raise BadRequest("'ids' must be a comma-separated list of integers") from None
    query = ListQuery(
        page=page,
        per_page=min(per_page, DOCS_MAX_PER_PAGE if app.docs else MAX_PER_PAGE),
        order=order,
        desc=request.flag("desc"),
        new=request.flag("new"),
        updated=request.flag("updated"),
        since_id=_int_param(request, "sinceId", None),
        since_sq=_int_param(request, "sinceSq", None),
        filters=_filters(tbl, request.query.get("filters", "")),
        ids=ids,
    )
    return [_styled(app, request, tbl, row) for row in app.store.list_records(tbl, query)]


def get_record(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    _, tbl = _table(app, team, db, table)
    return _styled(app, request, tbl, app.store.get(tbl, _record_id(rid)))


def lookup(app: App, request: Request, team: str, db: str, table: str) -> Any:
    if app.docs and request.method != "POST":
        raise NotFound(f"no such path {request.path!r}")
    _, tbl = _table(app, team, db, table)
    if app.docs:
        return _docs_lookup(app, request, tbl, request.json())
    if request.method == "POST":
        body = request.json()
        raw = body.get("filters", {}) if isinstance(body, dict) else None
    else:
        raw = request.query.get("filters", "")
    row = app.store.find(tbl, _filters(tbl, raw))
    if row is None:
        raise NotFound(f"no record in table {tbl.name!r} matches the filters")
    return _styled(app, request, tbl, row)


def _write_item(item: Any, index: int | None) -> tuple[int | None, Any]:
    where = f"item {index}: " if index is not None else ""
    if not isinstance(item, dict):
        raise BadRequest(f"{where}each record must be an object with 'fields'")
    fields = item.get("fields", {})
    if not isinstance(fields, dict):
        raise BadRequest(f"{where}'fields' must be an object")
    rid = item.get("id")
    return (None if rid is None else _record_id(rid)), fields


def save_records(app: App, request: Request, team: str, db: str, table: str) -> Any:
    database, tbl = _table(app, team, db, table)
    body = request.json()
    items = body if isinstance(body, list) else [body]
    indexed = len(items) > 1
    parsed = [_write_item(item, i if indexed else None) for i, item in enumerate(items)]
    rows = app.store.save(database, tbl, parsed)
    return [_record(app, tbl, row) for row in rows]


def put_record(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    database, tbl = _table(app, team, db, table)
    body = request.json()
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise BadRequest('body must be {"fields": {...}}')
    (row,) = app.store.save(database, tbl, [(_record_id(rid), body["fields"])])
    return _record(app, tbl, row)


def delete_record(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    database, tbl = _table(app, team, db, table)
    app.store.delete(database, tbl, [_record_id(rid)])
    return _deleted(app)


def delete_records(app: App, request: Request, team: str, db: str, table: str) -> Any:
    database, tbl = _table(app, team, db, table)
    body = request.json()
    if not isinstance(body, list):
        raise BadRequest("body must be a JSON array of record ids")
    app.store.delete(database, tbl, [_record_id(i) for i in body])
    return _deleted(app)


def _deleted(app: App) -> Any:
    # Seed 002: "an empty object indicates that the deletion took effect".
    return {} if app.docs else Response(200)


# -- change feeds ---------------------------------------------------------------------
def _changes(
    app: App, request: Request, database: Database, tbl: Table | None, rid: int | None
) -> Any:
    since = _int_param(request, "sinceSq", 0) or 0
    if app.docs:
        # A bare list of the changed records as they are now: no table, no
        # operation, and a deleted record simply is not there.
        return [
            _styled(app, request, t, row)
            for _, t, _, _, row in app.store.changes(database, since, tbl, rid)
            if row is not None
        ]
    changes = [
        {
            "seq": seq,
            "table": t.id,
            "id": record_id,
            "op": op,
            "record": None if row is None else _styled(app, request, t, row),
        }
        for seq, t, record_id, op, row in app.store.changes(database, since, tbl, rid)
    ]
    return {"seq": app.store.seq(database), "changes": changes}


def _refuse_changes(app: App) -> None:
    if app.faults.strikes("changes_404"):
        raise NotFound("fault: no change feed here")


def db_changes(app: App, request: Request, team: str, db: str) -> Any:
    _refuse_changes(app)
    return _changes(app, request, _db(app, team, db), None, None)


def table_changes(app: App, request: Request, team: str, db: str, table: str) -> Any:
    _refuse_changes(app)
    database, tbl = _table(app, team, db, table)
    return _changes(app, request, database, tbl, None)


def record_changes(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    _refuse_changes(app)
    database, tbl = _table(app, team, db, table)
    record_id = _record_id(rid)
    if app.docs and app.store.record(tbl, record_id) is None:
        raise NotFound("record not found")
    # A deleted record keeps its feed (it shows the delete); one never seen is 404.
    if app.store.record(tbl, record_id) is None and not app.store.changes(
        database, 0, tbl, record_id
    ):
        raise NotFound(f"record {record_id} not found in table {tbl.name!r}")
    return _changes(app, request, database, tbl, record_id)


# -- NX -------------------------------------------------------------------------------
def _query_text(request: Request) -> str:
    if request.method == "GET":
        text = request.query.get("query", "")
    else:
        body = request.json()
        text = body.get("query", "") if isinstance(body, dict) else ""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("missing 'query' (an NX expression)")
    return text


def _refused(app: App) -> Response | None:
    if app.faults.strikes("query_refused"):
        return Response.text(403, "fault: query and exec are not allowed for this API key")
    return None


def query(app: App, request: Request, team: str, db: str) -> Any:
    refused = _refused(app)
    if refused is not None:
        return refused
    return Response.json(run_nx(app.store, _db(app, team, db), _query_text(request), False))


def execute(app: App, request: Request, team: str, db: str) -> Any:
    refused = _refused(app)
    if refused is not None:
        return refused
    return Response.json(run_nx(app.store, _db(app, team, db), _query_text(request), True))


# -- files ----------------------------------------------------------------------------
def list_files(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    _, tbl = _table(app, team, db, table)
    return [f.to_json(tbl) for f in files.list_files(app.store, tbl, _record_id(rid))]


def _multipart(request: Request) -> dict[str, tuple[str | None, str, bytes]]:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("upload a file as multipart/form-data with a 'file' part")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts[name] = (part.get_filename(), part.get_content_type(), data)
    return parts


def upload_file(app: App, request: Request, team: str, db: str, table: str, rid: str) -> Any:
    database, tbl = _table(app, team, db, table)
    parts = _multipart(request)
    if "file" not in parts:
        raise BadRequest("multipart body has no 'file' part")
    filename, content_type, data = parts["file"]
    if not filename:
        raise BadRequest("the 'file' part needs a filename")
    fld = None
    if "fieldName" in parts:
        field_ref = parts["fieldName"][2].decode("utf-8").strip()
        fld = tbl.field(field_ref)
        if fld is None:
            raise BadRequest(f"unknown field {field_ref!r} in table {tbl.name!r}")
    info = files.put_file(
        app.store, database, tbl, _record_id(rid), filename, content_type, data, fld
    )
    return info.to_json(tbl)


def download_file(
    app: App, request: Request, team: str, db: str, table: str, rid: str, name: str
) -> Any:
    _, tbl = _table(app, team, db, table)
    info, data = files.read_file(app.store, tbl, _record_id(rid), name)
    return Response(200, data, [("Content-Type", info.content_type)])


def delete_file(
    app: App, request: Request, team: str, db: str, table: str, rid: str, name: str
) -> Any:
    database, tbl = _table(app, team, db, table)
    files.delete_file(app.store, database, tbl, _record_id(rid), name)
    return Response(200)


def file_metadata(
    app: App, request: Request, team: str, db: str, table: str, rid: str, name: str
) -> Any:
    _, tbl = _table(app, team, db, table)
    info, _ = files.read_file(app.store, tbl, _record_id(rid), name)
    return info.to_json(tbl)


def file_thumb(
    app: App, request: Request, team: str, db: str, table: str, rid: str, name: str
) -> Any:
    _, tbl = _table(app, team, db, table)
    info, data = files.read_file(app.store, tbl, _record_id(rid), name)
    if not info.content_type.startswith("image/"):
        raise NotFound(f"no thumbnail for {name!r} (not an image)")
    # The emulator does not scale images: the original stands in for the thumbnail.
    return Response(200, data, [("Content-Type", info.content_type)])
