"""Change feeds: ``…/changes?sinceSq=N`` in either shape a server may answer with.

- ``{"seq": <current>, "changes": [{"seq", "table", "id", "op", "record"}]}`` (our emulator);
- a bare array of records: each is an upsert, and the high-water mark is the
  greatest ``sequence`` seen (or ``since_sq`` when nothing came).

Ninox documents neither. :func:`parse_changes` reads both leniently (for looking);
the sync engine uses :func:`parse_changes_strictly`, which accepts only the first
shape and raises :class:`~ninox_backend.exceptions.NinoxSyncError` on anything it
cannot apply, so a change is never skipped while the high-water mark moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import NinoxSyncError
from .types import Record

__all__ = ["Change", "ChangeSet", "parse_changes", "parse_changes_strictly"]

CREATE, UPDATE, DELETE, UPSERT = "create", "update", "delete", "upsert"

_OPS = {
    "create": CREATE,
    "created": CREATE,
    "insert": CREATE,
    "new": CREATE,
    "update": UPDATE,
    "updated": UPDATE,
    "modify": UPDATE,
    "modified": UPDATE,
    "delete": DELETE,
    "deleted": DELETE,
    "remove": DELETE,
    "removed": DELETE,
    "upsert": UPSERT,
}


@dataclass(frozen=True)
class Change:
    """One change: ``op`` is ``create``, ``update``, ``delete`` or ``upsert`` (bare feeds)."""

    seq: int | None
    #: the table's name where the schema knows it, else what the server sent
    table: str | None
    id: int
    op: str
    record: Record | None = None
    #: the table's id where the schema knows it
    table_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Changes after ``since_sq``; ``seq`` is the new high-water mark."""

    seq: int | None
    changes: list[Change] = field(default_factory=list)
    #: the server answered with a bare array of records (no table names, no deletes)
    bare: bool = False
    raw: Any = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.changes)


#: (table as the server sent it, raw record) -> (table name, table id, typed record)
RecordReader = Callable[[str | None, Mapping[str, Any]], tuple[str | None, str | None, Record]]
#: table as the server sent it -> (table name, table id)
TableResolver = Callable[[str | None], tuple[str | None, str | None]]


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def parse_changes(
    data: Any,
    *,
    since_sq: int | None,
    table: str | None,
    read_record: RecordReader,
    resolve_table: TableResolver,
) -> ChangeSet:
    """Parse a change-feed reply; ``table`` is the table asked for (``None`` for the database)."""
    if isinstance(data, Mapping) and ("changes" in data or "seq" in data):
        changes = []
        for item in data.get("changes") or []:
            server_table = item.get("table", item.get("tableId", table))
            server_table = str(server_table) if server_table is not None else None
            raw_record = item.get("record")
            record = None
            name, table_id = resolve_table(server_table)
            if isinstance(raw_record, Mapping):
                name, table_id, record = read_record(server_table, raw_record)
            record_id = _int(item.get("id"))
            if record_id is None and record is not None:
                record_id = record.id
            if record_id is None:
                continue
            op = _OPS.get(str(item.get("op", "")).lower(), UPSERT if record else DELETE)
            changes.append(
                Change(
                    seq=_int(item.get("seq", record.sequence if record else None)),
                    table=name,
                    id=record_id,
                    op=op,
                    record=record,
                    table_id=table_id,
                )
            )
        seq = _int(data.get("seq"))
        if seq is None:
            seqs = [c.seq for c in changes if c.seq is not None]
            seq = max(seqs, default=since_sq)
        return ChangeSet(seq=seq, changes=changes, raw=data)

    items = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
    changes = []
    for raw_record in items:
        if not isinstance(raw_record, Mapping) or "id" not in raw_record:
            continue
        server_table = raw_record.get("table", raw_record.get("tableId", table))
        server_table = str(server_table) if server_table is not None else None
        name, table_id, record = read_record(server_table, raw_record)
        changes.append(Change(record.sequence, name, record.id, UPSERT, record, table_id))
    seqs = [c.seq for c in changes if c.seq is not None]
    high = max(seqs, default=None)
    if since_sq is not None and (high is None or high < since_sq):
        high = since_sq
    return ChangeSet(seq=high, changes=changes, bare=True, raw=data)


def _strict_int(value: Any) -> int | None:
    """An integer, or the digits of one; anything else (bools, fractions, text) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def parse_changes_strictly(
    data: Any,
    *,
    since_sq: int | None,
    table: str | None,
    read_record: RecordReader,
    resolve_table: TableResolver,
    path: str = "/changes",
) -> ChangeSet:
    """Parse a feed the sync will apply: every change must be fully understood.

    Only ``{"seq", "changes": [...]}`` is accepted. A change whose table is not in
    the schema, whose id is not an integer, whose operation is unknown, or whose
    record contradicts it raises :class:`NinoxSyncError`, as does any other shape
    (a bare list of records carries no table and no deletes).
    """

    def refuse(detail: str) -> NinoxSyncError:
        return NinoxSyncError(
            f"the change feed sent something the sync cannot apply: {detail}",
            method="GET",
            path=path,
        )

    if not isinstance(data, Mapping) or not isinstance(data.get("changes"), list):
        raise refuse(f"a {type(data).__name__} without a 'changes' list")
    changes = []
    for index, item in enumerate(data["changes"]):
        if not isinstance(item, Mapping):
            raise refuse(f"change {index} is not an object")
        server_table = item.get("table", item.get("tableId", table))
        name, table_id = resolve_table(str(server_table) if server_table is not None else None)
        if table_id is None:
            raise refuse(f"change {index} names no known table ({server_table!r})")
        record_id = _strict_int(item.get("id"))
        if record_id is None:
            raise refuse(f"change {index} has no integer record id ({item.get('id')!r})")
        seq = item.get("seq")
        if seq is not None and _strict_int(seq) is None:
            raise refuse(f"change {index} has a sequence that is not an integer ({seq!r})")
        raw_record = item.get("record")
        record = None
        if raw_record is not None:
            if not isinstance(raw_record, Mapping):
                raise refuse(f"change {index} carries a record that is not an object")
            try:
                _, _, record = read_record(str(server_table), raw_record)
            except (KeyError, TypeError, ValueError):
                raise refuse(f"change {index} carries a record without an integer id") from None
            if record.id != record_id:
                raise refuse(f"change {index} is about record {record_id} but carries {record.id}")
        op = _OPS.get(str(item.get("op", "")).lower())
        if op is None:
            raise refuse(f"change {index} has an unknown operation ({item.get('op')!r})")
        changes.append(
            Change(
                seq=_strict_int(seq) if seq is not None else None,
                table=name,
                id=record_id,
                op=op,
                record=record,
                table_id=table_id,
            )
        )
    high = data.get("seq")
    if high is not None and _strict_int(high) is None:
        raise refuse(f"the feed's sequence is not an integer ({high!r})")
    if high is None:
        if any(c.seq is None for c in changes):
            raise refuse("neither the feed nor every change names its sequence")
        high = max((c.seq for c in changes if c.seq is not None), default=since_sq)
    return ChangeSet(seq=_strict_int(high) if high is not None else None, changes=changes, raw=data)
