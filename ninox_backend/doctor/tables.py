"""The schema, and the id of every mapped table and field in it (filters and lookups are keyed
by id)."""

from __future__ import annotations

from collections.abc import Mapping

from ..exceptions import NinoxError
from ..schema import Schema
from .probe import Probe
from .replies import error_text, short


def check_schema(probe: Probe) -> bool:
    state = probe.state
    try:
        raw = probe.database.request("GET", "")
    except NinoxError as exc:
        probe.add(
            "schema",
            False,
            f"GET {probe.db_path()} answered {error_text(exc)}",
            "check NINOX_DATABASE_ID; nothing else checked",
        )
        return False
    source = "the database endpoint"
    if isinstance(raw, Mapping) and isinstance(raw.get("schema"), Mapping):
        shape = "{" + ", ".join(sorted(str(k) for k in raw)) + "} with schema.types"
    else:
        try:
            raw = probe.database.request("GET", "/tables")
        except NinoxError as exc:
            probe.add(
                "schema",
                False,
                f"neither the database endpoint nor …/tables gave a schema ({short(exc)})",
                "nothing else checked",
            )
            return False
        source, shape = "…/tables", "a list of tables"
    schema = Schema.from_json(raw, fetched_at=probe.now())
    probe.database.use_schema(schema)
    state.schema, state.raw_schema = schema, raw
    version = f", version {schema.version}" if schema.version is not None else ""
    probe.add(
        "schema",
        bool(schema.tables),
        f"{source} answers {shape}: {len(schema.tables)} table(s){version}",
        "names map to ids from it" if schema.tables else "the database has no tables",
    )
    problems = probe.mapping.check(schema)
    for mapped in probe.mapping.tables.values():
        live = schema.find_table(mapped.name)
        if live is None:
            probe.add(
                f"table {mapped.name}",
                False,
                "not in the database",
                "fix NINOX_SCHEMA (manage.py ninox_check)",
            )
            continue
        ids = []
        for mf in mapped.fields.values():
            found = next((f for f in live.fields if f.name == mf.name), None)
            ids.append(f"{mf.name} {found.id if found else '?'}")
        mine = [p for p in problems if p.table == mapped.name]
        detail = ", ".join(ids)
        if mine:
            detail += "; " + "; ".join(f"{p.field} {p.message}" for p in mine)
        probe.add(
            f"table {mapped.name} = {live.id}",
            not mine,
            detail,
            "fix NINOX_SCHEMA or the database (manage.py ninox_check)"
            if mine
            else "filters and lookups use these ids",
        )
    return True
