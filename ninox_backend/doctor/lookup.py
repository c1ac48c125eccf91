"""Which lookup form (``LOOKUP_FORMS``, keyed by field id) finds an existing record by its own
value, and answers nothing for a value nothing has."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..exceptions import NinoxError, NinoxNotFound
from ..profile import LOOKUP_FORMS
from ..types import FieldType
from .probe import RECORDS_PATH, TABLE_PATH, LookupTarget, Probe
from .replies import as_int, clip, error_text, field_value, shape_of
from .values import TEXT_TYPES


def _lookup_target(probe: Probe) -> LookupTarget | None:
    """An existing record (not the table's first) with a value no other sampled row has."""
    table_key, field_key = probe.lookup
    samples = sorted(
        probe.state.samples, key=lambda s: s.mapped.key != table_key
    )  # the write-back's table first
    for sample in samples:
        mapped_fields = list(sample.mapped.fields.values())
        mapped_fields.sort(key=lambda f: f.key != field_key)
        rows = sample.rows
        if len(rows) < 2:
            continue
        first_id = min(as_int(r.get("id")) or 0 for r in rows)
        for mf in mapped_fields:
            live = next((f for f in sample.table.fields if f.name == mf.name), None)
            if live is None or mf.formula or live.type not in TEXT_TYPES | {FieldType.NUMBER}:
                continue
            values = [field_value(r, [mf.name, live.id]) for r in rows]
            counts: dict[str, int] = {}
            for v in values:
                counts[repr(v)] = counts.get(repr(v), 0) + 1
            for row, value in zip(rows, values, strict=True):
                rid = as_int(row.get("id"))
                if (
                    rid is not None
                    and rid != first_id
                    and isinstance(value, str | int | Decimal)
                    and not isinstance(value, bool)
                    and value != ""
                    and counts[repr(value)] == 1
                ):
                    return LookupTarget(sample.table, live.id, live.name, value, rid)
    return None


def _lookup(probe: Probe, form: str, table_id: str, body: Mapping[str, Any]) -> Any:
    if form == "post-filters":
        return probe.database.request(
            "POST", TABLE_PATH + "/record", path_params={"table": table_id},
            json={"filters": dict(body)}, idempotent=True,
        )  # fmt: skip
    if form == "post-flat":
        return probe.database.request(
            "POST", TABLE_PATH + "/record", path_params={"table": table_id},
            json=dict(body), idempotent=True,
        )  # fmt: skip
    return probe.get(RECORDS_PATH, table_id, params={"filters": dict(body)})


def lookup_verdict(probe: Probe, form: str, target: LookupTarget) -> tuple[bool, str]:
    """Whether ``form`` finds the target and answers nothing for a value nothing has."""
    body = {target.field_id: target.value}
    try:
        answer = _lookup(probe, form, target.table.id, body)
    except NinoxError as exc:
        return False, f"answers {error_text(exc)} for record {target.record_id}'s own value"
    ids = _answer_ids(answer)
    if ids is None:
        return False, f"answers {shape_of(answer)} for record {target.record_id}'s own value"
    if target.record_id not in ids:
        shown = ", ".join(str(i) for i in ids[:3]) or "nothing"
        return False, f"answers record {shown} for record {target.record_id}"
    if len(ids) > 1:
        return False, f"answers {len(ids)} records for one value"
    nothing = f"ninox-doctor no such value {secrets.token_hex(4)}"
    if not isinstance(target.value, str):
        nothing_value: Any = Decimal("-987654321.25")
    else:
        nothing_value = nothing
    try:
        answer = _lookup(probe, form, target.table.id, {target.field_id: nothing_value})
    except NinoxNotFound:
        return True, "no match is a 404"
    except NinoxError as exc:
        return False, f"answers {error_text(exc)} for a value nothing has"
    ids = _answer_ids(answer)
    if ids:
        return False, f"answers record {ids[0]} for a value nothing has"
    return True, f"no match is {shape_of(answer)}"


def check_lookups(probe: Probe) -> None:
    state = probe.state
    target = state.target = _lookup_target(probe)
    if target is None:
        probe.add(
            "lookup",
            False,
            "no record with a value of its own to look up by",
            "write-back decides with an NX query and reads every id back"
            " (run --write-test TABLE to settle the lookup form)",
        )
        return
    for form in LOOKUP_FORMS:
        ok, why = lookup_verdict(probe, form, target)
        described = _describe_form(form, target)
        if ok:
            state.honoured.append(form)
            first = len(state.honoured) == 1
            state.lookup_form = state.honoured[0]
            probe.add(
                f"lookup {form}",
                True,
                f"{described} returns the right record ({why})",
                "write-back uses it (every answer still checked)"
                if first
                else f"honoured too; {state.honoured[0]} comes first",
            )
        else:
            probe.add(f"lookup {form}", False, f"{described} {why}", "never used")
    if not state.honoured:
        probe.add(
            "lookup",
            False,
            "no lookup form returned the right record",
            "write-back decides with an NX query and reads every id back",
        )


def _answer_ids(answer: Any) -> list[int] | None:
    """The record ids a lookup answered with ([] for nothing), or None if it is no record."""
    if answer is None or answer == [] or answer == {}:
        return []
    items = answer if isinstance(answer, list) else [answer]
    ids = []
    for item in items:
        rid = as_int(item.get("id")) if isinstance(item, Mapping) else None
        if rid is None:
            return None
        ids.append(rid)
    return ids


def _describe_form(form: str, target: LookupTarget) -> str:
    value = clip(target.value)
    table = f"…/tables/{target.table.id}"
    if form == "post-filters":
        return f'POST {table}/record {{"filters": {{"{target.field_id}": {value}}}}}'
    if form == "post-flat":
        return f'POST {table}/record {{"{target.field_id}": {value}}}'
    return f'GET {table}/records?filters={{"{target.field_id}": {value}}}'
