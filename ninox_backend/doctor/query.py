"""Whether ``POST …/query`` answers an NX count (the drift check and the query-verified
write-back need it)."""

from __future__ import annotations

from typing import Any

from .. import nx
from ..exceptions import NinoxError
from .probe import Probe
from .replies import as_number, clip, error_text


def check_query(probe: Probe) -> None:
    state = probe.state
    target = state.target
    if target is not None:
        where = nx.eq(target.field_name, target.value)
        expr: Any = nx.count(nx.select(target.table.name).where(where))
    else:
        table = next(iter(probe.mapped_tables()), None)
        if table is None:
            return
        expr = nx.count(nx.select(table[1].name))
    try:
        answer = probe.database.request(
            "POST", "/query", json={"query": str(expr)}, idempotent=True
        )
    except NinoxError as exc:
        state.query = False
        probe.add(
            "query",
            False,
            f"POST …/query answers {error_text(exc)}",
            _without_query(probe),
        )
        return
    value = as_number(answer)
    if value is None or (target is not None and value != 1):
        state.query = False
        probe.add(
            "query",
            False,
            f"POST …/query {{'query': {str(expr)!r}}} answers {clip(answer)}",
            _without_query(probe),
        )
        return
    probe.add(
        "query",
        True,
        f"POST …/query {{'query': {str(expr)!r}}} answers {value}",
        "drift check and query-verified write-back available",
    )


def _without_query(probe: Probe) -> str:
    form = probe.state.lookup_form
    if form:
        return f"no drift check; write-back confirms its row with the verified lookup ({form})"
    return "no drift check; write-back cannot confirm a row: it holds rows for finance"
