"""How the account answers as an HTTP service: the body of an error, the latency of a small
call, and two calls at once (raw httpx clients, outside the client's limiter)."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from urllib.parse import quote

import httpx

from ..exceptions import NinoxError
from ..types import loads
from .probe import Probe
from .replies import Unreadable, clip, shape_of

#: a record id no table has (within a signed 32-bit integer, so no server chokes on it)
MISSING_RECORD_ID = 2_000_000_000
#: p95 above this is worth a cross mark: every decision waits for one call
SLOW_P95_SECONDS = 2.0


def check_error_body(probe: Probe) -> None:
    state = probe.state
    table = next(iter(probe.mapped_tables()), None)
    if table is None:
        return
    path = probe.db_path(f"/tables/{quote(table[1].id, safe='')}/records/{MISSING_RECORD_ID}")
    try:
        with probe.http_factory() as http:
            state.raw_calls += 1
            response = http.get(path)
    except httpx.HTTPError as exc:
        probe.add("error body", False, f"no reply ({type(exc).__name__})", "")
        return
    shape = _error_shape(response)
    ok = response.status_code == 404 and shape != "an empty body"
    probe.add(
        "error body",
        ok,
        f"a missing record answers {response.status_code} with {shape}",
        "Ninox's words are shown with every error" if ok else "errors are shown by status only",
    )


def check_latency(probe: Probe) -> None:
    table = next(iter(probe.mapped_tables()), None)
    if table is None or probe.latency_samples <= 0:
        return
    durations: list[float] = []
    for _ in range(probe.latency_samples):
        start = probe.clock()
        try:
            probe.records(table[1].id, perPage=1)
        except (NinoxError, Unreadable):
            continue
        durations.append(probe.clock() - start)
    if not durations:
        probe.add("latency", False, "no call answered", "")
        return
    p50, p95 = _percentile(durations, 50), _percentile(durations, 95)
    ok = p95 <= SLOW_P95_SECONDS
    probe.add(
        "latency",
        ok,
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(durations)} calls",
        "a decision's refresh takes about this long"
        if ok
        else "decisions wait this long for Ninox; the portal's timeout still applies",
    )


def check_parallel(probe: Probe) -> None:
    state = probe.state
    table = next(iter(probe.mapped_tables()), None)
    if table is None:
        return
    path = probe.db_path(f"/tables/{quote(table[1].id, safe='')}/records")
    statuses: list[int | str] = []
    barrier = threading.Barrier(2)
    lock = threading.Lock()

    def call() -> None:
        try:
            with probe.http_factory() as http:
                barrier.wait(timeout=10)
                status: int | str = http.get(path, params={"perPage": 1}).status_code
        except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
            status = type(exc).__name__
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=call, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    state.raw_calls += 2
    refused = any(s == 429 or (isinstance(s, int) and s >= 500) for s in statuses)
    state.parallel_refused = refused if all(isinstance(s, int) for s in statuses) else None
    probe.add(
        "parallel calls",
        True,
        "two calls at once answered " + " and ".join(str(s) for s in sorted(map(str, statuses))),
        "the portal keeps one call in flight per key"
        + (" (required here)" if refused else " (Ninox asks for it)"),
    )


def _error_shape(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text:
        return "an empty body"
    try:
        data = loads(text)
    except ValueError:
        return f"plain text {clip(text)}"
    if isinstance(data, Mapping):
        if isinstance(data.get("message"), str):
            return f'JSON {{"message": {clip(data["message"])}}}'
        error = data.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return f'JSON {{"error": {{"message": {clip(error["message"])}}}}}'
        if isinstance(error, str):
            return f'JSON {{"error": {clip(error)}}}'
        return "a JSON object without a message"
    if isinstance(data, str):
        return f"a JSON string {clip(data)}"
    return f"JSON {shape_of(data)}"


def _percentile(values: Sequence[float], pct: int) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]
