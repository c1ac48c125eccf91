"""The write test: one scratch record created, looked up, updated and deleted, the change
feed read after each step. The feed is switched on only when creates, updates *and* deletes
each appear in it in a shape the portal fully understands; a table with
``afterCreate``/``afterUpdate`` triggers is refused unless ``force``."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ..exceptions import NinoxError, NinoxNotFound
from ..profile import LOOKUP_FORMS
from ..schema import TableSchema
from ..types import FieldType
from .feed import feed_shows
from .lookup import lookup_verdict
from .probe import RECORD_PATH, RECORDS_PATH, LookupTarget, Probe
from .replies import as_int, error_text, shape_of


def run_write_test(probe: Probe, table_name: str, *, force: bool) -> str | None:
    state = probe.state
    schema = state.schema
    assert schema is not None
    table = schema.find_table(table_name)
    if table is None:
        reason = f"the database has no table {table_name!r}"
        probe.add("write test", False, reason, "nothing written")
        return reason
    triggers = _triggers(state.raw_schema, table.id)
    if triggers and not force:
        reason = f"{table.name} has {', '.join(triggers)} (NX that runs on every write)"
        probe.add("write test", False, reason, "nothing written; --force runs it anyway")
        return reason
    marker_field = next(
        (f for f in table.fields if f.type == FieldType.TEXT and not f.formula), None
    )
    if marker_field is None:
        reason = f"{table.name} has no text field to mark a scratch record with"
        probe.add("write test", False, reason, "nothing written; pick another table")
        return reason
    marker = f"ninox-doctor scratch {probe.now():%Y%m%dT%H%M%S} {secrets.token_hex(3)}"
    try:
        created = probe.database.request(
            "POST", RECORDS_PATH, path_params={"table": table.id},
            json=[{"fields": {marker_field.id: marker}}], idempotent=False,
        )  # fmt: skip
    except NinoxError as exc:
        probe.add("write test", False, f"create answered {error_text(exc)}", "")
        return None
    record = created[0] if isinstance(created, list) and created else created
    rid = as_int(record.get("id")) if isinstance(record, Mapping) else None
    if rid is None:
        probe.add("write test", False, f"create answered {shape_of(created)}", "")
        return None
    created_seq = as_int(record.get("sequence")) if isinstance(record, Mapping) else None
    deleted = False
    try:
        probe.add(
            "write test",
            True,
            f"created record {rid} in {table.name} ({marker_field.name} = {marker!r})",
            "",
        )
        seen: dict[str, tuple[bool, str]] = {}
        before = (
            (created_seq - 1) if created_seq is not None else max(state.seen.values(), default=0)
        )
        seen["create"] = feed_shows(probe, before, table.id, rid, "create", marker_field, marker)
        _write_test_lookup(probe, table, marker_field.id, marker, rid)
        updated_marker = marker + " updated"
        reply = probe.database.request(
            "PUT", RECORD_PATH, path_params={"table": table.id, "record": rid},
            json={"fields": {marker_field.id: updated_marker}},
        )  # fmt: skip
        updated_seq = as_int(reply.get("sequence")) if isinstance(reply, Mapping) else None
        after_create = (updated_seq - 1) if updated_seq is not None else before
        seen["update"] = feed_shows(
            probe, after_create, table.id, rid, "update", marker_field, updated_marker
        )
        probe.database.request(
            "DELETE", RECORD_PATH, path_params={"table": table.id, "record": rid}
        )
        deleted = True
        try:
            probe.get(RECORD_PATH, table.id, path_params={"record": rid})
            gone = False
        except NinoxNotFound:
            gone = True
        probe.add(
            "write test",
            gone,
            f"updated and deleted record {rid}"
            + ("; reading it now answers 404" if gone else "; it can still be read"),
            "" if gone else "delete it by hand in Ninox",
        )
        seen["delete"] = feed_shows(
            probe, updated_seq if updated_seq is not None else after_create,
            table.id, rid, "delete", marker_field, None,
        )  # fmt: skip
    except NinoxError as exc:
        probe.add("write test", False, f"stopped: {error_text(exc)}", "")
        seen = {}
    finally:
        if not deleted:
            _cleanup(probe, table, rid)
    shown = len(seen) == 3 and all(ok for ok, _how in seen.values())
    state.change_feed = shown and state.feed_understood
    if seen:
        hows = {how for _ok, how in seen.values()}
        if len(seen) == 3 and len(hows) == 1:
            detail = f"create, update and delete: {hows.pop()}"
        else:
            detail = "; ".join(f"{op}: {how}" for op, (_ok, how) in seen.items())
        if state.change_feed:
            probe.add(
                "change feed (write test)",
                True,
                detail,
                "the portal follows …/changes?sinceSq=",
            )
        else:
            why = (
                ""
                if state.feed_understood or not shown
                else ", but the read-only comparison with records?sinceSq= did not hold"
            )
            probe.add(
                "change feed (write test)",
                False,
                detail + why,
                "the portal syncs with records?sinceSq=",
            )
    return None


def _cleanup(probe: Probe, table: TableSchema, rid: int) -> None:
    try:
        probe.database.request(
            "DELETE", RECORD_PATH, path_params={"table": table.id, "record": rid}
        )
    except NinoxError as exc:
        probe.add(
            "write test",
            False,
            f"the scratch record {rid} in {table.name} could not be deleted ({error_text(exc)})",
            "delete it by hand in Ninox",
        )


def _write_test_lookup(
    probe: Probe, table: TableSchema, field_id: str, marker: str, rid: int
) -> None:
    state = probe.state
    forms = list(state.honoured) or list(LOOKUP_FORMS)
    target = LookupTarget(table, field_id, "", marker, rid)
    confirmed: list[str] = []
    for form in forms:
        ok, _why = lookup_verdict(probe, form, target)
        if ok:
            confirmed.append(form)
    if state.honoured:
        lost = [f for f in state.honoured if f not in confirmed]
        state.honoured = [f for f in state.honoured if f in confirmed]
    else:
        lost = []
        state.honoured = confirmed
    state.lookup_form = state.honoured[0] if state.honoured else None
    probe.add(
        "write test lookup",
        not lost and bool(confirmed),
        f"looking up the scratch record by {field_id}: "
        + (", ".join(confirmed) or "no form")
        + " found it"
        + (f"; {', '.join(lost)} did not" if lost else ""),
        f"write-back uses {state.lookup_form}"
        if state.lookup_form
        else "write-back decides with an NX query and reads every id back",
    )


def _triggers(raw_schema: Any, table_id: str) -> list[str]:
    """``afterCreate``/``afterUpdate`` triggers of a table (and its fields) in the raw schema.

    A schema without ``types`` (from ``…/tables``) cannot show triggers: reported as unknown.
    """
    schema = raw_schema.get("schema") if isinstance(raw_schema, Mapping) else None
    types = schema.get("types") if isinstance(schema, Mapping) else None
    if not isinstance(types, Mapping):
        return ["triggers the schema does not show"]
    spec = types.get(table_id)
    if not isinstance(spec, Mapping):
        return ["triggers the schema does not show"]
    found = [name for name in ("afterCreate", "afterUpdate") if spec.get(name)]
    fields = spec.get("fields")
    if isinstance(fields, Mapping):
        for field_id, field_spec in fields.items():
            if isinstance(field_spec, Mapping) and field_spec.get("afterUpdate"):
                caption = field_spec.get("caption", field_id)
                found.append(f"afterUpdate on {caption}")
    return [f"an {name} trigger" for name in found]
