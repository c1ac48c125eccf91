"""Schema objects of the emulator: databases, tables, fields, choice options.

Field types use one vocabulary everywhere (the ``type`` of ``GET …/tables`` and the
``base`` of the database schema): ``text email phone url html number date datetime
time timeinterval appointment boolean choice multi location reference file image
formula``. :func:`normalize_type` also accepts common aliases (``string``,
``multiple choice``, ``ref``, ``fn``, ``timestamp``…).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = (
    "text",
    "email",
    "phone",
    "url",
    "html",
    "number",
    "date",
    "datetime",
    "time",
    "timeinterval",
    "appointment",
    "boolean",
    "choice",
    "multi",
    "location",
    "reference",
    "file",
    "image",
    "formula",
)

_ALIASES = {
    "string": "text",
    "richtext": "html",
    "timestamp": "datetime",
    "multiple choice": "multi",
    "multichoice": "multi",
    "multiple_choice": "multi",
    "ref": "reference",
    "link": "reference",
    "fn": "formula",
    "bool": "boolean",
    "yes/no": "boolean",
    "duration": "timeinterval",
}


class SchemaError(ValueError):
    """A table or field definition that cannot be used."""


def normalize_type(name: str) -> str:
    """Map a field type name or alias to the emulator's vocabulary."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in FIELD_TYPES:
        raise SchemaError(f"unknown field type {name!r}")
    return key


def letters(index: int) -> str:
    """Ninox-style id for a 0-based position: 0 → ``A``, 25 → ``Z``, 26 → ``AA``."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


@dataclass(frozen=True)
class ChoiceOption:
    id: int
    caption: str


@dataclass(frozen=True)
class Field:
    """One field of a table; ``ref_table`` is the target table id of a reference."""

    id: str
    name: str
    type: str
    required: bool = False
    options: tuple[ChoiceOption, ...] = ()
    ref_table: str | None = None
    formula: str | None = None

    def option_by_caption(self, caption: str) -> ChoiceOption | None:
        return next((o for o in self.options if o.caption == caption), None)

    def option_by_id(self, option_id: int) -> ChoiceOption | None:
        return next((o for o in self.options if o.id == option_id), None)

    def to_json(self) -> dict[str, Any]:
        """The field as stored in SQLite and as restored by :meth:`from_json`."""
        data: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.required:
            data["required"] = True
        if self.options:
            data["options"] = [[o.id, o.caption] for o in self.options]
        if self.ref_table:
            data["ref_table"] = self.ref_table
        if self.formula:
            data["formula"] = self.formula
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Field:
        return cls(
            id=data["id"],
            name=data["name"],
            type=data["type"],
            required=bool(data.get("required", False)),
            options=tuple(ChoiceOption(int(i), str(c)) for i, c in data.get("options", [])),
            ref_table=data.get("ref_table"),
            formula=data.get("formula"),
        )


@dataclass
class Table:
    """A table: ``key`` is its SQLite key, ``id`` its Ninox letter id."""

    key: int
    db_key: int
    id: str
    name: str
    fields: list[Field] = field(default_factory=list)

    def field(self, ref: str) -> Field | None:
        """A field by id or (case-sensitive) name; ids win."""
        for f in self.fields:
            if f.id == ref:
                return f
        for f in self.fields:
            if f.name == ref:
                return f
        return None

    def field_by_id(self, field_id: str) -> Field | None:
        """A field by its id only (``A``, ``B``, …); names do not count."""
        return next((f for f in self.fields if f.id == field_id), None)


@dataclass
class Database:
    key: int
    team_id: str
    id: str
    name: str
    tables: list[Table] = field(default_factory=list)

    def table(self, ref: str) -> Table | None:
        """A table by id or (case-sensitive) name; ids win."""
        for t in self.tables:
            if t.id == ref:
                return t
        for t in self.tables:
            if t.name == ref:
                return t
        return None

    def table_by_key(self, key: int) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def build_fields(
    specs: Iterable[Mapping[str, Any]], resolve_table: Mapping[str, str]
) -> list[Field]:
    """Fields from caller specs (``{"name", "type", "options"?, "table"?, "formula"?}``).

    ``resolve_table`` maps table names and ids (including the table being built) to
    ids, for reference targets.
    """
    fields: list[Field] = []
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        name = str(spec["name"])
        if name in seen:
            raise SchemaError(f"duplicate field name {name!r}")
        seen.add(name)
        ftype = normalize_type(str(spec.get("type", "text")))
        options: tuple[ChoiceOption, ...] = ()
        ref_table = None
        formula = None
        if ftype in ("choice", "multi"):
            raw = spec.get("options") or spec.get("values") or []
            options = tuple(ChoiceOption(i + 1, str(caption)) for i, caption in enumerate(raw))
            if not options:
                raise SchemaError(f"choice field {name!r} needs options")
        elif ftype == "reference":
            target = str(spec.get("table") or spec.get("ref_table") or "")
            if target not in resolve_table:
                raise SchemaError(f"reference field {name!r}: unknown table {target!r}")
            ref_table = resolve_table[target]
        elif ftype == "formula":
            formula = str(spec.get("formula") or spec.get("fn") or "")
            if not formula:
                raise SchemaError(f"formula field {name!r} needs a formula")
        fields.append(
            Field(
                id=str(spec.get("id") or letters(index)),
                name=name,
                type=ftype,
                required=bool(spec.get("required", False)),
                options=options,
                ref_table=ref_table,
                formula=formula,
            )
        )
    return fields
