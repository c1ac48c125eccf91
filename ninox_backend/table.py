"""``Table``: records, lookups, batches, files and the change feed of one table."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .changes import ChangeSet
from .exceptions import NinoxNotFound
from .paging import iter_pages
from .schema import TableSchema
from .types import Field, FileInfo, Record, fields_to_ninox

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

    # ---- reading ----------------------------------------------------------------------

    def iter_records(
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
    ) -> Iterator[Record]:
        """Yield every matching record, reading page after page lazily.

        ``since_sq`` returns records changed after that sequence number,
        ``since_id`` ids above it, ``filters`` equality filters by field name.
        Stops on a short page; raises ``NinoxPagingError`` on a repeated page.
        """
        for page in self.iter_pages(
            per_page, since_sq, since_id, order, desc, filters, ids=ids, new=new, updated=updated
        ):
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
    ) -> Iterator[list[Record]]:
        """Like :meth:`iter_records`, one list per page (for progress and batching)."""
        schema = self.schema
        params: dict[str, Any] = {
            "perPage": per_page,
            "order": order,
            "desc": True if desc else None,
            "sinceSq": since_sq,
            "sinceId": since_id,
            "filters": self._write_fields(filters, schema) if filters else None,
            "ids": ",".join(str(int(i)) for i in ids) if ids is not None else None,
            "new": new,
            "updated": updated,
        }

        def fetch(page: int) -> Any:
            return self._request("GET", RECORDS, params={"page": page, **params})

        path = RECORDS.replace("{table}", schema.id)
        for page in iter_pages(fetch, per_page, path=path):
            yield [self._record(item, schema) for item in page]

    def all(self, **kwargs: Any) -> list[Record]:
        """Every matching record as a list (same arguments as :meth:`iter_records`)."""
        return list(self.iter_records(**kwargs))

    def get(self, record_id: int) -> Record:
        """``GET …/records/{id}``; ``NinoxNotFound`` (a ``KeyError``) if there is none."""
        schema = self.schema
        data = self._request("GET", RECORD, path_params={"record": int(record_id)})
        return self._record(data, schema)

    def first(self, filters: Mapping[str, Any], *, method: str = "POST") -> Record | None:
        """The first record whose fields equal ``filters`` (the lookup endpoint), else ``None``.

        ``method="GET"`` uses ``GET …/record?filters=`` instead of the POST form.
        """
        schema = self.schema
        body = self._write_fields(filters, schema)
        try:
            if method.upper() == "GET":
                data = self._request("GET", TABLE + "/record", params={"filters": body})
            else:
                data = self._request(
                    "POST", TABLE + "/record", json={"filters": body}, idempotent=True
                )
        except NinoxNotFound:
            return None
        if not isinstance(data, Mapping) or "id" not in data:
            return None
        return self._record(data, schema)

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
