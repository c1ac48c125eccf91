"""The mapping from an application's names to a Ninox database's tables and fields.

Table and field names differ between Ninox databases, so an application names what
it needs (``grants.amount``) and a mapping, usually from settings, says where that
lives in Ninox (table ``Grants``, field ``Amount``, type ``number``). ``check``
compares a mapping with the live schema and names every problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .schema import Schema
from .types import FieldType


@dataclass(frozen=True)
class MappedField:
    key: str  # the application's name, e.g. "amount"
    name: str  # the Ninox field's name, e.g. "Amount"
    type: str  # the Ninox type the application expects
    formula: bool = False  # read only through a query, never with records


@dataclass(frozen=True)
class MappedTable:
    key: str  # e.g. "grants"
    name: str  # e.g. "Grants"
    fields: Mapping[str, MappedField]

    def field(self, key: str) -> str:
        """The Ninox field name for the application's ``key``."""
        return self.fields[key].name


@dataclass(frozen=True)
class Problem:
    table: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.field}" if self.field else self.table
        return f"{where}: {self.message}"


class SchemaMapping:
    """``{"grants": {"table": "Grants", "fields": {"amount": ("Amount", "number")}}}``.

    A field entry is ``(name, type)`` or ``{"name", "type", "formula": bool}``.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        tables = {}
        for key, table_spec in spec.items():
            fields = {}
            for field_key, field_spec in table_spec["fields"].items():
                if isinstance(field_spec, Mapping):
                    mapped = MappedField(
                        field_key,
                        field_spec["name"],
                        field_spec.get("type", FieldType.TEXT),
                        bool(field_spec.get("formula", False)),
                    )
                else:
                    name, type_ = field_spec
                    mapped = MappedField(field_key, name, type_)
                fields[field_key] = mapped
            tables[key] = MappedTable(key, table_spec["table"], fields)
        self.tables: dict[str, MappedTable] = tables

    def __getitem__(self, key: str) -> MappedTable:
        return self.tables[key]

    def check(self, schema: Schema) -> list[Problem]:
        """Every missing table or field, type mismatch, and formula field read by the mapping."""
        problems: list[Problem] = []
        for table in self.tables.values():
            live = schema.find_table(table.name)
            if live is None:
                problems.append(Problem(table.name, None, "table missing"))
                continue
            by_name = {f.name: f for f in live.fields}
            for mapped in table.fields.values():
                found = by_name.get(mapped.name)
                if found is None:
                    problems.append(Problem(table.name, mapped.name, "field missing"))
                elif found.type == FieldType.FORMULA and not mapped.formula:
                    problems.append(
                        Problem(
                            table.name,
                            mapped.name,
                            "is a formula field: its value comes only through a query",
                        )
                    )
                elif found.type != mapped.type and not mapped.formula:
                    problems.append(
                        Problem(table.name, mapped.name, f"is {found.type}, expected {mapped.type}")
                    )
        return problems
