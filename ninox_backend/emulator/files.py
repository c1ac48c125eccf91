"""Files attached to records: stored bytes, listing, upload into a field, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import NotFound, Unprocessable
from .schema import Database, Field, Table
from .store import Store


@dataclass(frozen=True)
class FileInfo:
    name: str
    size: int
    content_type: str
    created_at: str
    field_id: str | None

    def to_json(self, table: Table) -> dict[str, Any]:
        fld = table.field(self.field_id) if self.field_id else None
        return {
            "name": self.name,
            "size": self.size,
            "contentType": self.content_type,
            "createdAt": self.created_at,
            "field": fld.name if fld else None,
        }


_COLUMNS = "name, size, content_type, created_at, field_id"


def list_files(store: Store, table: Table, rid: int) -> list[FileInfo]:
    store.get(table, rid)
    with store.lock:
        rows = store.conn.execute(
            f"SELECT {_COLUMNS} FROM files WHERE tkey=? AND rid=? ORDER BY name",  # noqa: S608  # nosec B608
            (table.key, rid),
        ).fetchall()
    return [FileInfo(*row) for row in rows]


def read_file(store: Store, table: Table, rid: int, name: str) -> tuple[FileInfo, bytes]:
    store.get(table, rid)
    with store.lock:
        row = store.conn.execute(
            f"SELECT {_COLUMNS}, data FROM files WHERE tkey=? AND rid=? AND name=?",  # noqa: S608  # nosec B608
            (table.key, rid, name),
        ).fetchone()
    if row is None:
        raise NotFound(f"file {name!r} not found on record {rid}")
    return FileInfo(*row[:5]), bytes(row[5])


def put_file(
    store: Store,
    db: Database,
    table: Table,
    rid: int,
    name: str,
    content_type: str,
    data: bytes,
    fld: Field | None = None,
) -> FileInfo:
    """Store a file (replacing one of the same name); with a field, set the field to it."""
    if fld is not None and fld.type not in ("file", "image"):
        raise Unprocessable(f"field {fld.name!r} is not a file or image field")
    with store.transaction() as conn:
        store.get(table, rid)
        info = FileInfo(name, len(data), content_type, store.timestamp(), fld.id if fld else None)
        conn.execute(
            "INSERT OR REPLACE INTO files(tkey, rid, name, field_id, content_type, size, "
            "created_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (table.key, rid, name, info.field_id, content_type, info.size, info.created_at, data),
        )
        # Attaching a file is a change of the record, so it shows in the feeds.
        store.touch(db, table, rid, {fld.id: name} if fld else {})
    return info


def delete_file(store: Store, db: Database, table: Table, rid: int, name: str) -> None:
    """Delete a file; a field that held it is cleared."""
    with store.transaction() as conn:
        info, _ = read_file(store, table, rid, name)
        conn.execute("DELETE FROM files WHERE tkey=? AND rid=? AND name=?", (table.key, rid, name))
        row = store.get(table, rid)
        cleared = {
            fid: None for fid, value in row.data.items() if value == name and fid == info.field_id
        }
        store.touch(db, table, rid, cleared)
