"""``Table``: records, lookups, batches, files and the change feed of one table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import nx
from .changes import ChangeSet
from .exceptions import NinoxLookupUnreliable, NinoxNotFound
from .paging import iter_pages
from .profile import LOOKUP_FORMS
from .schema import TableSchema
from .types import Field, FileInfo, Record, fields_to_ninox, from_ninox, same_value, to_ninox

if TYPE_CHECKING:
    from .database import Database

__all__ = ["Table"]

TABLE = "/tables/{table}"
RECORDS = TABLE + "/records"
RECORD = RECORDS + "/{record}"
FILES = RECORD + "/files"
FILE = FILES + "/{name}"


class Table:
    """A handle on one table, addressed by name or id.

    Values are converted per field type both ways using the database's cached
    schema; requests use the table's id when the schema knows it.
    """

    def __init__(self, database: Database, name_or_id: str) -> None:
        self.database = database
        self.key = str(name_or_id)

    def __repr__(self) -> str:
        return f"Table({self.key!r}, database={self.database.id!r})"

    # ---- schema -----------------------------------------------------------------------

    @property
    def schema(self) -> TableSchema:
        """This table's schema, from the database's cache (read once if needed)."""
        return self.database.table_schema(self.key)

    @property
    def id(self) -> str:
        return self.schema.id

    @property
    def name(self) -> str:
        return self.schema.name

    def fields(self) -> list[Field]:
        """The table's typed fields (from the cached schema)."""
        return list(self.schema.fields)

    def _request(self, method: str, template: str, **kwargs: Any) -> Any:
        path_params = {"table": self.id, **kwargs.pop("path_params", {})}
        return self.database.request(method, template, path_params=path_params, **kwargs)

    def _record(self, data: Mapping[str, Any], schema: TableSchema) -> Record:
        record = Record.from_json(data, schema.field_map, schema.id)
        if any(name not in schema.field_map for name in record.fields):
            self.database.note_unknown_fields()
        return record

    def _write_fields(self, fields: Mapping[str, Any], schema: TableSchema) -> dict[str, Any]:
        return fields_to_ninox(fields, schema.field_map)

    def _filters_by_id(self, filters: Mapping[str, Any], schema: TableSchema) -> dict[str, Any]:
        """Equality filters keyed by field **id**, as both of Ninox's documents show them."""
        out = {}
        for name, value in filters.items():
            spec = schema.field(name)
            out[spec.id] = to_ninox(value, spec.type)
        return out

    # ---- reading ----------------------------------------------------------------------

    def iter_records(self, **options: Any) -> Iterator[Record]:
        """Yield every matching record, reading page after page lazily (the options of
        :meth:`iter_pages`)."""
        for page in self.iter_pages(**options):
            yield from page

    def iter_pages(
        self,
        per_page: int = 100,
        since_sq: int | None = None,
        since_id: int | None = None,
        order: str | None = None,
        desc: bool = False,
        filters: Mapping[str, Any] | None = None,
        *,
        ids: Iterable[int] | None = None,
        new: bool | None = None,
        updated: bool | None = None,
        server_cap: int | None = None,
    ) -> Iterator[list[Record]]:
        """Every matching record, one list per page (for progress and batching).

        ``since_sq`` returns records changed after that sequence number,
        ``since_id`` ids above it, ``filters`` equality filters by field name (sent
        keyed by field id). Stops on an empty page or one shorter than
        ``min(per_page, server_cap, 100)`` (see :func:`~ninox_backend.paging.iter_pages`);
        raises ``NinoxPagingError`` on a repeated page. ``server_cap`` is the largest
        page the server has been shown to send (the capability profile's ``per_page``),
        if known.
        """
        schema = self.schema
        params: dict[str, Any] = {
            "perPage": per_page,
            "order": order,
            "desc": True if desc else None,
            "sinceSq": since_sq,
            "sinceId": since_id,
            "filters": self._filters_by_id(filters, schema) if filters else None,
            "ids": ",".join(str(int(i)) for i in ids) if ids is not None else None,
            "new": new,
            "updated": updated,
        }

        def fetch(page: int) -> Any:
            return self._request("GET", RECORDS, params={"page": page, **params})

        path = RECORDS.replace("{table}", schema.id)
        for page in iter_pages(fetch, per_page, server_cap=server_cap, path=path):
            yield [self._record(item, schema) for item in page]

    def all(self, **kwargs: Any) -> list[Record]:
        """Every matching record as a list (the options of :meth:`iter_pages`)."""
        return list(self.iter_records(**kwargs))

    def get(self, record_id: int) -> Record:
        """``GET …/records/{id}``; ``NinoxNotFound`` (a ``KeyError``) if there is none."""
        schema = self.schema
        data = self._request("GET", RECORD, path_params={"record": int(record_id)})
        return self._record(data, schema)

    def first(self, filters: Mapping[str, Any], *, form: str = "post-filters") -> Record | None:
        """The record whose fields equal ``filters`` (by field name), else ``None`` (a 404).

        The names are mapped to field ids from the schema and sent in ``form``, one of
        :data:`~ninox_backend.profile.LOOKUP_FORMS`: ``post-filters`` (``POST …/record
        {"filters": {"C": v}}``), ``post-flat`` (``POST …/record {"C": v}``) or
        ``get-records-filters`` (``GET …/records?filters=``, one record or a list).

        The reply is never trusted: a record that does not carry every asked value
        (or a reply that is not a record) raises :class:`NinoxLookupUnreliable`,
        never "not found", which would make a write-back create a duplicate.
        """
        if form not in LOOKUP_FORMS:
            raise ValueError(f"unknown lookup form {form!r}; use one of {LOOKUP_FORMS}")
        schema = self.schema
        body = self._filters_by_id(filters, schema)
        try:
            if form == "post-filters":
                data = self._request(
                    "POST", TABLE + "/record", json={"filters": body}, idempotent=True
                )
            elif form == "post-flat":
                data = self._request("POST", TABLE + "/record", json=body, idempotent=True)
            else:
                data = self._request("GET", RECORDS, params={"filters": body})
        except NinoxNotFound:
            return None
        path = (RECORDS if form == "get-records-filters" else TABLE + "/record").replace(
            "{table}", schema.id
        )
        method = "GET" if form == "get-records-filters" else "POST"
        if isinstance(data, Mapping):
            items: list[Any] = [data]
        elif isinstance(data, list):
            items = data
        else:
            raise self._unreliable(
                f"the {form} lookup answered with {type(data).__name__}, not a record",
                method,
                path,
            )
        records = [
            self._reply_record(item, schema, f"the {form} lookup", method, path) for item in items
        ]
        for record in records:
            self._verify(record, filters, schema, f"the {form} lookup", method, path)
        return records[0] if records else None

    def find(self, filters: Mapping[str, Any]) -> list[Record]:
        """Every record whose fields equal ``filters`` (by field name), each one verified.

        Existence is decided by an NX query (``select Grants where Reference = "…"``);
        each id it names is read with :meth:`get` and its values compared with the
        asked ones. A mismatch, or a reply that is not record ids, raises
        :class:`NinoxLookupUnreliable`; a refused query raises its ``NinoxError``.
        """
        if not filters:
            raise ValueError("find() needs at least one filter")
        schema = self.schema
        conditions = [
            nx.eq(nx.field(schema.field(name).name), value) for name, value in filters.items()
        ]
        query = nx.select(schema.name).where(*conditions)
        data = self.database.query(query)
        path = "/query"
        ids: list[int] = []
        for item in data if isinstance(data, list) else [] if data is None else [data]:
            record_id = self._query_id(item, schema)
            if record_id is None:
                raise self._unreliable(
                    f"the query {query} answered with {item!r}, not a record of {schema.name}",
                    "POST",
                    path,
                )
            if record_id not in ids:
                ids.append(record_id)
        records = []
        for record_id in ids:
            try:
                record = self.get(record_id)
            except NinoxNotFound:
                raise self._unreliable(
                    f"the query named record {record_id} of {schema.name}, which cannot be read",
                    "POST",
                    path,
                ) from None
            self._verify(record, filters, schema, "the query", "POST", path)
            records.append(record)
        return records

    @staticmethod
    def _query_id(item: Any, schema: TableSchema) -> int | None:
        """A record id from an NX reply: ``"B6"`` (this table's letter), ``"6"`` or ``6``."""
        if isinstance(item, bool):
            return None
        if isinstance(item, int):
            return item if item > 0 else None
        if isinstance(item, Decimal):
            return int(item) if item == item.to_integral_value() and item > 0 else None
        if isinstance(item, str):
            match = re.fullmatch(r"([A-Z]*)(\d+)", item.strip())
            if match and match.group(1) in ("", schema.id) and int(match.group(2)) > 0:
                return int(match.group(2))
        return None

    def _reply_record(
        self, item: Any, schema: TableSchema, what: str, method: str, path: str
    ) -> Record:
        try:
            if isinstance(item, Mapping):
                return self._record(item, schema)
        except (KeyError, TypeError, ValueError):
            pass
        raise self._unreliable(f"{what} answered with something that is not a record", method, path)

    def _verify(
        self,
        record: Record,
        filters: Mapping[str, Any],
        schema: TableSchema,
        what: str,
        method: str,
        path: str,
    ) -> None:
        """Raise unless ``record`` carries every asked value (both sides converted alike)."""
        for name, value in filters.items():
            spec = schema.field(name)
            asked = from_ninox(to_ninox(value, spec.type), spec.type, spec)
            got = record.fields.get(spec.name, record.fields.get(spec.id))
            if not same_value(asked, got):
                raise self._unreliable(
                    f"{what} answered with record {record.id} of {schema.name}, "
                    f"whose {spec.name!r} is not the value asked for",
                    method,
                    path,
                )

    @staticmethod
    def _unreliable(detail: str, method: str, path: str) -> NinoxLookupUnreliable:
        return NinoxLookupUnreliable(
            f"this lookup form is not honoured here: {detail}", method=method, path=path
        )

    # ---- writing ----------------------------------------------------------------------

    def create(self, fields: Mapping[str, Any]) -> Record:
        """Create one record. Never retried: on an unclear failure, look it up before retrying."""
        records = self.save_many([{"fields": fields}])
        return records[0]

    def update(self, record_id: int, fields: Mapping[str, Any]) -> Record:
        """``PUT …/records/{id}``: change the given fields only."""
        schema = self.schema
        body = {"fields": self._write_fields(fields, schema)}
        data = self._request("PUT", RECORD, path_params={"record": int(record_id)}, json=body)
        if isinstance(data, Mapping) and "id" in data:
            return self._record(data, schema)
        return self.get(record_id)

    def save_many(self, items: Iterable[Mapping[str, Any] | Record]) -> list[Record]:
        """``POST …/records``: create (no ``id``) or update (with ``id``) in one call, in order.

        Each item is ``{"fields": {...}}`` or ``{"id": 7, "fields": {...}}`` (or a
        :class:`Record`). Never retried.
        """
        schema = self.schema
        body = []
        for item in items:
            if isinstance(item, Record):
                item = {"id": item.id, "fields": item.fields}
            entry: dict[str, Any] = {"fields": self._write_fields(item.get("fields") or {}, schema)}
            if item.get("id") is not None:
                entry = {"id": int(item["id"]), **entry}
            body.append(entry)
        if not body:
            return []
        data = self._request("POST", RECORDS, json=body, idempotent=False)
        if isinstance(data, Mapping):
            data = [data]
        return [self._record(item, schema) for item in data or []]

    def delete(self, record_id: int) -> None:
        """``DELETE …/records/{id}``."""
        self._request("DELETE", RECORD, path_params={"record": int(record_id)})

    def delete_many(self, ids: Iterable[int]) -> None:
        """``DELETE …/records`` with the ids in the body."""
        body = [int(i) for i in ids]
        if body:
            self._request("DELETE", RECORDS, json=body)

    # ---- files ------------------------------------------------------------------------

    def files(self, record_id: int) -> list[FileInfo]:
        """``GET …/records/{id}/files``."""
        data = self._request("GET", FILES, path_params={"record": int(record_id)})
        return [FileInfo.from_json(item) for item in data or []]

    def download(self, record_id: int, name: str) -> bytes:
        """``GET …/records/{id}/files/{name}``: the file's bytes."""
        params = {"record": int(record_id), "name": name}
        data: bytes = self._request("GET", FILE, path_params=params, raw=True)
        return data

    def file_metadata(self, record_id: int, name: str) -> dict[str, Any]:
        """``GET …/records/{id}/files/{name}/metadata``."""
        params = {"record": int(record_id), "name": name}
        data = self._request("GET", FILE + "/metadata", path_params=params)
        return dict(data) if isinstance(data, Mapping) else {"value": data}

    def thumbnail(self, record_id: int, name: str) -> bytes:
        """``GET …/records/{id}/files/{name}/thumb.jpg``."""
        params = {"record": int(record_id), "name": name}
        data: bytes = self._request("GET", FILE + "/thumb.jpg", path_params=params, raw=True)
        return data

    def upload(self, record_id: int, name: str, data: bytes, field: str | None = None) -> FileInfo:
        """``POST …/records/{id}/files`` (multipart). ``field`` puts it in a file/image field.

        Never retried.
        """
        form = {"fieldName": self.schema.field(field).name} if field else None
        reply = self._request(
            "POST",
            FILES,
            path_params={"record": int(record_id)},
            files={"file": (name, data)},
            data=form,
            idempotent=False,
        )
        return FileInfo.from_json(reply if reply is not None else {"name": name})

    def delete_file(self, record_id: int, name: str) -> None:
        """``DELETE …/records/{id}/files/{name}``."""
        self._request("DELETE", FILE, path_params={"record": int(record_id), "name": name})

    # ---- changes ----------------------------------------------------------------------

    def changes(self, since_sq: int | None = None) -> ChangeSet:
        """``GET …/tables/{table}/changes?sinceSq=N``."""
        table_id = self.id
        data = self._request("GET", TABLE + "/changes", params={"sinceSq": since_sq})
        return self.database._parse_changes(data, since_sq, table_id)

    def record_changes(self, record_id: int, since_sq: int | None = None) -> ChangeSet:
        """``GET …/tables/{table}/records/{id}/changes?sinceSq=N``."""
        table_id = self.id
        data = self._request(
            "GET",
            RECORD + "/changes",
            path_params={"record": int(record_id)},
            params={"sinceSq": since_sq},
        )
        return self.database._parse_changes(data, since_sq, table_id)
