"""The change feed (``…/changes?sinceSq=``): read strictly, compared with ``records?sinceSq=``,
and, in the write test, asked whether it shows one create, update or delete plainly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..exceptions import NinoxError
from .probe import Probe
from .replies import as_int, error_text, field_value, shape_of

_FEED_OPS = {
    "create": "create",
    "created": "create",
    "insert": "create",
    "new": "create",
    "update": "update",
    "updated": "update",
    "modify": "update",
    "modified": "update",
    "delete": "delete",
    "deleted": "delete",
    "remove": "delete",
    "removed": "delete",
}


def read_feed(probe: Probe, since: int) -> Any:
    return probe.database.request("GET", "/changes", params={"sinceSq": since})


def check_change_feed(probe: Probe) -> None:
    state = probe.state
    off = "the portal syncs with records?sinceSq="
    since = state.recent_since
    if since is None or state.recent is None:
        probe.add("change feed", False, "not compared: sinceSq could not be settled", off)
        return
    try:
        data = read_feed(probe, since)
    except NinoxError as exc:
        probe.add("change feed", False, f"…/changes answers {error_text(exc)}", off)
        return
    feed = parse_feed(probe, data)
    if isinstance(feed, str):
        probe.add("change feed", False, f"…/changes answers {feed}", off)
        return
    mapped_ids = {live.id for _m, live in probe.mapped_tables()}
    last_op = {(t, rid): op for t, rid, op, _rec, _seq in feed}
    # records?sinceSq= cannot show what was deleted since: compare the rest.
    listed = {key for key, op in last_op.items() if op != "delete" and key[0] in mapped_ids}
    stale = [seq for *_x, seq in feed if seq is not None and seq <= since]
    if stale or listed != state.recent:
        extra, lacking = listed - state.recent, state.recent - listed
        probe.add(
            "change feed",
            False,
            f"…/changes?sinceSq={since} differs from records?sinceSq={since}"
            f" ({len(lacking)} missing, {len(extra)} extra, {len(stale)} not after {since})",
            off,
        )
        return
    state.feed_understood = True
    action = (
        "stays off until --write-test TABLE has shown creates, updates and deletes in it; " + off
    )
    previous = probe.previous
    if previous is not None and previous.change_feed and not probe.write_test_planned:
        # A write test showed every kind of change before, and the shape still holds.
        state.change_feed = True
        when = f" of {previous.checked_at:%Y-%m-%d}" if previous.checked_at else ""
        action = (
            f"stays on: the write test{when} showed creates, updates and deletes in it;"
            " the portal follows …/changes?sinceSq="
        )
    probe.add(
        "change feed",
        True,
        f"…/changes?sinceSq={since} answers {{seq, changes: [{{seq, table, id, op,"
        f" record}}]}} matching records?sinceSq={since} ({len(listed)} record(s))",
        action,
    )


def parse_feed(probe: Probe, data: Any) -> list[tuple[str, int, str, Any, int | None]] | str:
    """Every change as (table id, record id, op, record, seq), or why it cannot be read."""
    schema = probe.state.schema
    assert schema is not None
    if isinstance(data, list):
        return (
            "a bare list of records (no table, no operation: deletes cannot show)"
            if data
            else "an empty list (a bare list of records: no table, no operation)"
        )
    if not isinstance(data, Mapping):
        return f"{shape_of(data)}, which the portal cannot read"
    items = data.get("changes")
    if as_int(data.get("seq")) is None or not isinstance(items, list):
        keys = ", ".join(sorted(str(k) for k in data))
        return f"an object {{{keys}}} the portal cannot read"
    out: list[tuple[str, int, str, Any, int | None]] = []
    for item in items:
        if not isinstance(item, Mapping):
            return "changes that are not objects"
        table = item.get("table", item.get("tableId"))
        found = schema.find_table(str(table)) if table is not None else None
        rid = as_int(item.get("id"))
        op = _FEED_OPS.get(str(item.get("op", "")).lower())
        if found is None or rid is None or op is None:
            return (
                f"a change the portal cannot place (table {table!r}, id {item.get('id')!r},"
                f" op {item.get('op')!r})"
            )
        out.append((found.id, rid, op, item.get("record"), as_int(item.get("seq"))))
    # A create or update must carry its record, unless the record was deleted later on.
    last_op = {(t, rid): op for t, rid, op, _rec, _seq in out}
    for t, rid, op, record, _seq in out:
        if op != "delete" and not isinstance(record, Mapping) and last_op[(t, rid)] != "delete":
            return f"a {op} without its record"
    return out


def feed_shows(
    probe: Probe,
    since: int,
    table_id: str,
    rid: int,
    op: str,
    marker_field: Any,
    marker: str | None,
) -> tuple[bool, str]:
    """Whether the feed after ``since`` shows this change plainly, and how it shows it."""
    try:
        data = read_feed(probe, since)
    except NinoxError as exc:
        return False, f"…/changes answers {error_text(exc)}"
    feed = parse_feed(probe, data)
    if isinstance(feed, str):
        if isinstance(data, list):
            hits = [r for r in data if isinstance(r, Mapping) and as_int(r.get("id")) == rid]
            return False, "absent" if not hits else "a record without table or operation"
        return False, feed
    mine = [c for c in feed if c[0] == table_id and c[1] == rid]
    if not mine:
        return False, "absent"
    last = mine[-1]
    if last[2] != op:
        return False, f"shown as {last[2]!r}"
    if marker is not None:
        value = field_value(last[3], [marker_field.name, marker_field.id])
        if value != marker:
            return False, f"op {op!r} without the new value"
        return True, f"op {op!r} with the new record"
    return True, f"op {op!r} with table and id"
