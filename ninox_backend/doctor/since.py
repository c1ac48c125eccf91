"""``records?sinceSq=S``: does it return exactly the records changed after S (neither older
ones nor fewer)? What it returns is kept for the change-feed comparison."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import NinoxError
from .probe import Probe
from .replies import Unreadable, as_int, error_text


def _since(
    probe: Probe, tables: Sequence[str], since: int
) -> tuple[dict[tuple[str, int], Any], bool]:
    """``records?sinceSq=since`` of every mapped table (one page each), and whether that
    was everything (every page short)."""
    size = probe.state.per_page
    got: dict[tuple[str, int], Any] = {}
    complete = True
    for table_id in tables:
        rows = probe.records(table_id, sinceSq=since, perPage=size)
        probe.remember(table_id, rows)
        complete = complete and len(rows) < size
        for row in rows:
            rid = as_int(row.get("id"))
            if rid is not None:
                got[(table_id, rid)] = as_int(row.get("sequence"))
    return got, complete


def _climb(probe: Probe, tables: Sequence[str]) -> None:
    """Read records?sinceSq= until the newest records are all seen (a few calls).

    Sequences are database-wide; from the highest seen, gallop upwards while a
    reply fills its page, then halve the gap, until one reply is short but not empty.
    """
    state = probe.state
    since = max(state.seen.values())
    step = state.per_page
    full: int | None = None
    empty: int | None = None
    for _ in range(12):
        got, complete = _since(probe, tables, since)
        if any(seq is None or seq <= since for seq in got.values()):
            return  # sinceSq is not honoured; the check below says so
        if got and complete:
            return
        if not got:
            empty = since
            if full is None:
                return  # nothing after the highest sequence seen: the newest are known
        else:
            full = since
        if empty is None:
            top = max(seq for seq in got.values() if seq is not None)
            since, step = max(top, since + step), step * 2
        else:
            assert full is not None
            if empty - full <= 1:
                return
            since = (full + empty) // 2


def check_since_sq(probe: Probe) -> None:
    state = probe.state
    tables = [live.id for _mapped, live in probe.mapped_tables()]
    if not state.seen:
        probe.add(
            "sinceSq",
            False,
            "no record with a sequence was seen",
            "cannot tell; the portal syncs with records?sinceSq= and repairs by a daily"
            " reconciliation",
        )
        return
    try:
        _climb(probe, tables)
        ordered = sorted(state.seen.items(), key=lambda item: item[1], reverse=True)
        pivot_key, since = ordered[min(3, len(ordered) - 1)]
        expected = {key for key, seq in state.seen.items() if seq > since}
        got, complete = _since(probe, tables, since)
    except (NinoxError, Unreadable) as exc:
        probe.add(
            "sinceSq",
            False,
            f"records?sinceSq= answered {error_text(exc)}",
            "incremental sync cannot work here; report this",
        )
        return
    older = [key for key, seq in got.items() if seq is None or seq < since]
    missing = expected - set(got) if complete else set()
    if complete:
        state.recent, state.recent_since = set(got), since
    if older:
        probe.add(
            "sinceSq",
            False,
            f"records?sinceSq={since} also returns {len(older)} record(s) changed before"
            f" {since}: the parameter is ignored",
            "every sync reads whole tables (correct, but costly)",
        )
    elif missing:
        probe.add(
            "sinceSq",
            False,
            f"records?sinceSq={since} leaves out {len(missing)} record(s) changed after {since}",
            "incremental sync would miss changes; the daily reconciliation repairs them;"
            " report this",
        )
    elif pivot_key in got:
        probe.add(
            "sinceSq",
            True,
            f"records?sinceSq={since} returns sequence ≥ {since} (the record at {since} too)",
            "the sync reads one record twice: harmless",
        )
    else:
        counted = "none missing" if complete else "a full page: completeness not checked"
        probe.add(
            "sinceSq",
            True,
            f"records?sinceSq={since} returns only sequence > {since} ({len(got)} record(s),"
            f" {counted})",
            "incremental sync reads only what changed",
        )
