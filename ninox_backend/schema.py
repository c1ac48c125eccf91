"""The typed schema of a Ninox database: tables and fields, names ↔ ids, types.

Built from the database endpoint (``{"schema": {"seq", "version", "types": …}}``)
or, where a server gives no such schema, from the ``tables`` endpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import NinoxNotFound
from .types import Field, FieldType, normalize_type

__all__ = ["Schema", "TableSchema", "parse_field", "parse_table"]


@dataclass(frozen=True)
class TableSchema:
    """A table: its id (``"A"``), name (caption) and typed fields."""

    id: str
    name: str
    fields: tuple[Field, ...] = ()
    kind: str = "table"
    _index: dict[str, Field] = field(default_factory=dict, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Ids first, then names, so a field named like another's id resolves by name.
        index = {f.id: f for f in self.fields}
        index.update({f.name: f for f in self.fields})
        object.__setattr__(self, "_index", index)

    @property
    def field_map(self) -> Mapping[str, Field]:
        """Every field by name and by id."""
        return self._index

    def field(self, name_or_id: str) -> Field:
        """The field called ``name_or_id`` (or with that id); ``NinoxNotFound`` if none."""
        try:
            return self._index[name_or_id]
        except KeyError:
            raise NinoxNotFound(
                f"table {self.name!r} has no field {name_or_id!r}", path=f"/tables/{self.id}"
            ) from None


@dataclass(frozen=True)
class Schema:
    """A database's schema at one moment, with the version that tells when it changed."""

    tables: tuple[TableSchema, ...]
    version: Any = None
    seq: int | None = None
    raw: Any = field(default=None, repr=False, compare=False)
    fetched_at: dt.datetime | None = field(default=None, compare=False)

    def table(self, name_or_id: str) -> TableSchema:
        """The table with that id or name; ``NinoxNotFound`` if none."""
        for table in self.tables:
            if table.id == name_or_id:
                return table
        for table in self.tables:
            if table.name == name_or_id:
                return table
        raise NinoxNotFound(f"the database has no table {name_or_id!r}", path="/tables")

    def find_table(self, name_or_id: str) -> TableSchema | None:
        try:
            return self.table(name_or_id)
        except NinoxNotFound:
            return None

    @classmethod
    def from_json(cls, data: Any, fetched_at: dt.datetime | None = None) -> Schema:
        """Parse the database endpoint's reply (or a bare ``tables`` list)."""
        if isinstance(data, list):
            return cls(tuple(parse_table(t) for t in data), raw=data, fetched_at=fetched_at)
        schema = data.get("schema", data) if isinstance(data, Mapping) else {}
        types = schema.get("types") or {}
        tables = []
        for table_id, spec in types.items():
            kind = str(spec.get("kind") or "table")
            if kind != "table":
                continue
            tables.append(
                TableSchema(
                    id=str(table_id),
                    name=str(spec.get("caption") or spec.get("name") or table_id),
                    fields=tuple(_schema_fields(spec.get("fields") or {})),
                    kind=kind,
                )
            )
        return cls(
            tuple(tables),
            version=schema.get("version"),
            seq=_int_or_none(schema.get("seq")),
            raw=data,
            fetched_at=fetched_at,
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None


def _schema_fields(fields: Any) -> Iterable[Field]:
    if isinstance(fields, Mapping):
        for field_id, spec in fields.items():
            yield parse_field({"id": field_id, **spec})
    else:
        for spec in fields:
            yield parse_field(spec)


def _choices(spec: Mapping[str, Any]) -> dict[str, str]:
    values = spec.get("values", spec.get("choices", spec.get("options")))
    out: dict[str, str] = {}
    if isinstance(values, Mapping):
        for key, item in values.items():
            caption = (
                item.get("caption", item.get("val", item.get("name")))
                if isinstance(item, Mapping)
                else item
            )
            out[str(key)] = str(caption)
    elif isinstance(values, list):
        for index, item in enumerate(values):
            if isinstance(item, Mapping):
                key = item.get("id", index)
                out[str(key)] = str(item.get("caption", item.get("name", key)))
            elif isinstance(item, list | tuple) and len(item) == 2:
                out[str(item[0])] = str(item[1])
            else:
                out[str(item)] = str(item)
    return out


def parse_field(spec: Mapping[str, Any]) -> Field:
    """One field from either endpoint's shape (``base``/``caption`` or ``type``/``name``)."""
    raw_type = str(spec.get("type") or spec.get("base") or "")
    formula = spec.get("fn", spec.get("formula"))
    kind = normalize_type(raw_type)
    if formula and kind in ("", "any"):
        kind = FieldType.FORMULA
    ref = spec.get("refTypeId", spec.get("refTable", spec.get("ref", spec.get("target"))))
    return Field(
        id=str(spec.get("id", "")),
        name=str(spec.get("name") or spec.get("caption") or spec.get("id", "")),
        type=kind,
        required=bool(spec.get("required", False)),
        choices=_choices(spec),
        ref_table=str(ref) if ref is not None else None,
        formula=str(formula) if formula else None,
        raw_type=raw_type,
    )


def parse_table(spec: Mapping[str, Any]) -> TableSchema:
    """One table from the ``tables`` endpoint's shape."""
    return TableSchema(
        id=str(spec.get("id", "")),
        name=str(spec.get("name") or spec.get("caption") or spec.get("id", "")),
        fields=tuple(_schema_fields(spec.get("fields") or [])),
        kind=str(spec.get("kind") or "table"),
    )
