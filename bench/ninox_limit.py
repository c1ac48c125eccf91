"""What the parallel-call limit costs: Ninox calls per second with 1, 2 and 4 processes.

    .venv/bin/python bench/ninox_limit.py [--seconds 3] [--processes 1,2,4] [--latency 0]

The emulator runs as a real server on 127.0.0.1 in its ``parallel_limit=1`` fault mode
(an overlapping call is answered 429, as Ninox may). Worker processes share one API
key and call ``GET /teams`` in a loop for ``--seconds`` under each limiter: in-process
(one semaphore per process, so processes overlap), file locks, and Redis (a
redis-server started on a free port and stopped at the end). No retries, so every
overlap shows as a 429. Writes ``bench/results/ninox_limit.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import redis_server, shown, write_results
from ninox_backend.emulator import Emulator

TOKEN = "bench-limit-token"
MAX_CALLS = 200_000  # a hard cap per worker, whatever the duration


def make_limiter(kind: str, options: dict[str, Any]) -> Any:
    from ninox_backend import FileLockLimiter, InProcessLimiter
    from ninox_backend.limiter import RedisLimiter

    if kind == "in-process":
        return InProcessLimiter(1)
    if kind == "file lock":
        return FileLockLimiter(options["directory"])
    if kind == "redis":
        return RedisLimiter(options["redis_url"], lease=10)
    raise ValueError(kind)


def worker(
    kind: str,
    options: dict[str, Any],
    base_url: str,
    seconds: float,
    ready: Any,
    go: Event,
    results: Any,
) -> None:
    """Call ``GET /teams`` until the time is up; put (ok, 429s, other errors) on ``results``."""
    from ninox_backend import NinoxClient, NinoxError

    client = NinoxClient(
        token=TOKEN,
        base_url=base_url,
        limiter=make_limiter(kind, options),
        limiter_timeout=30,
        max_retries=0,
        timeout=10,
    )
    with contextlib.suppress(NinoxError):
        client.teams()  # connect and warm up before the clock starts
    ready.put(1)
    go.wait()
    ok = too_many = other = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and ok + too_many + other < MAX_CALLS:
        try:
            client.teams()
            ok += 1
        except NinoxError as exc:
            if exc.status == 429:
                too_many += 1
            else:
                other += 1
    client.close()
    results.put((ok, too_many, other))


def measure(
    kind: str, options: dict[str, Any], processes: int, base_url: str, seconds: float
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Event(), context.Queue()
    workers = [
        context.Process(target=worker, args=(kind, options, base_url, seconds, ready, go, results))
        for _ in range(processes)
    ]
    for process in workers:
        process.start()
    for _ in workers:  # every worker has started, connected and made a first call
        ready.get(timeout=60)
    start = time.perf_counter()
    go.set()
    totals = [0, 0, 0]
    for _ in workers:
        ok, too_many, other = results.get(timeout=seconds + 60)
        totals = [totals[0] + ok, totals[1] + too_many, totals[2] + other]
    elapsed = time.perf_counter() - start
    for process in workers:
        process.join(timeout=10)
    ok, too_many, other = totals
    return {
        "limiter": kind,
        "processes": processes,
        "seconds": round(elapsed, 2),
        "ok_calls": ok,
        "calls_per_second": round(ok / elapsed, 1),
        "ms_per_call": round(1000 * elapsed / ok, 3) if ok else None,
        "http_429": too_many,
        "other_errors": other,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per cell")
    parser.add_argument("--processes", default="1,2,4", help="process counts, comma-separated")
    parser.add_argument(
        "--latency", type=float, default=0, help="ms the emulator adds to each call (Ninox's RTT)"
    )
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.processes.split(",")]

    faults = "parallel_limit=1" + (f",latency={args.latency:g}ms" if args.latency else "")
    emu = Emulator(token=TOKEN, faults=faults)
    emu.add_team("bench", name="Bench")
    base_url = emu.start_background(host="127.0.0.1", port=0)
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    print(f"emulator at {base_url} ({faults}); GET /teams, {args.seconds:g} s per cell\n")
    header = f"{'limiter':12} {'procs':>5} {'calls/s':>9} {'ms/call':>8} {'429s':>7} {'other':>6}"
    print(header)
    print("-" * len(header))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-locks-") as directory, redis_server() as url:
            limiters: list[tuple[str, dict[str, Any]]] = [
                ("in-process", {}),
                ("file lock", {"directory": directory}),
            ]
            if url is None:
                notes.append("redis: skipped (redis-server is not installed or did not start)")
            else:
                limiters.append(("redis", {"redis_url": url}))
            for kind, options in limiters:
                for processes in counts:
                    row = measure(kind, options, processes, base_url, args.seconds)
                    rows.append(row)
                    ms = f"{row['ms_per_call']:.3f}" if row["ms_per_call"] else "-"
                    print(
                        f"{kind:12} {processes:>5} {row['calls_per_second']:>9.1f} {ms:>8}"
                        f" {row['http_429']:>7} {row['other_errors']:>6}"
                    )
    finally:
        emu.stop()
    for note in notes:
        print(note)
    print(
        "\nin-process limits only within one process: with several processes their calls"
        " overlap and Ninox answers 429. File locks and Redis hold the limit across processes."
    )
    path = write_results(
        "ninox_limit",
        {
            "call": "GET /teams",
            "seconds_per_cell": args.seconds,
            "emulator_faults": faults,
            "rows": rows,
            "notes": notes,
        },
    )
    print(f"written to {shown(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
