"""Benchmark the Ninox emulator on the 1,000-lodge / 50,000-grant demo.

    .venv/bin/python bench/emulator.py [--duration 30] [--connections 20] [--seconds 3]

Prints requests per second for record listing, lookup and the portal's fiscal-year
query, in-process (httpx transport) and over HTTP on 127.0.0.1, then runs a load of
``--connections`` keep-alive clients for ``--duration`` seconds against the real
server and prints the errors. Bounded in time and in requests; 127.0.0.1 only.
Writes ``bench/results/emulator.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ninox_backend.emulator import Emulator

TOKEN = "bench-token"
DB = "/teams/demo/databases/grants"
RESULTS = Path(__file__).resolve().parent / "results" / "emulator.json"
MAX_REQUESTS = 200_000  # a hard cap per measurement, whatever the duration


def fiscal_query(number: int) -> str:
    return (
        f"sum((select Grants where Lodge.Number = {number} and 'Grant Date' >= date(2026, 5, 1)"
        " and 'Grant Date' <= date(2027, 4, 30) and Status != \"Cancelled\").Amount)"
    )


def make_calls(numbers: list[int], rng: random.Random) -> dict[str, Callable[[httpx.Client], int]]:
    def listing(client: httpx.Client) -> int:
        page = rng.randrange(500)  # 50,000 grants at 100 a page
        params = {"page": page, "perPage": 100}
        return client.get(f"{DB}/tables/Grants/records", params=params).status_code

    def lookup(client: httpx.Client) -> int:
        filters = json.dumps({"Number": rng.choice(numbers)})
        return client.get(f"{DB}/tables/Lodges/record", params={"filters": filters}).status_code

    def query(client: httpx.Client) -> int:
        body = {"query": fiscal_query(rng.choice(numbers))}
        return client.post(f"{DB}/query", json=body).status_code

    return {"list records (perPage=100)": listing, "lookup": lookup, "fy query": query}


def measure(client: httpx.Client, call: Callable[[httpx.Client], int], seconds: float) -> dict:
    call(client)  # warm the caches
    count = errors = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds and count < MAX_REQUESTS:
        if call(client) != 200:
            errors += 1
        count += 1
    elapsed = time.perf_counter() - start
    return {"requests": count, "seconds": round(elapsed, 3), "rps": round(count / elapsed, 1),
            "errors": errors}  # fmt: skip


def load_run(base_url: str, calls: list[Callable[[httpx.Client], int]], connections: int,
             duration: float) -> dict:  # fmt: skip
    counts = [0] * connections
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + duration

    def worker(index: int) -> None:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30) as client:  # fmt: skip
            while time.perf_counter() < deadline and counts[index] < MAX_REQUESTS:
                try:
                    status = calls[counts[index] % len(calls)](client)
                    if status != 200:
                        with lock:
                            errors.append(f"HTTP {status}")
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(repr(exc))
                counts[index] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    elapsed = time.perf_counter() - start
    total = sum(counts)
    return {"connections": connections, "seconds": round(elapsed, 2), "requests": total,
            "rps": round(total / elapsed, 1), "errors": len(errors),
            "first_errors": errors[:5]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30, help="load run seconds")
    parser.add_argument("--connections", type=int, default=20, help="load run clients")
    parser.add_argument("--seconds", type=float, default=3, help="seconds per measurement")
    parser.add_argument("--lodges", type=int, default=1000)
    parser.add_argument("--grants", type=int, default=50000)
    args = parser.parse_args(argv)

    emu = Emulator(token=TOKEN)
    start = time.perf_counter()
    info = emu.seed_demo(seed=42, lodges=args.lodges, grants=args.grants)
    seed_seconds = time.perf_counter() - start
    print(f"demo: {info.lodges} lodges, {info.grants} grants loaded in {seed_seconds:.2f} s")
    numbers = [int(n) for n in emu.query("demo", "grants", "(select Lodges).Number")]
    rng = random.Random(1)
    calls = make_calls(numbers, rng)
    results: dict[str, Any] = {
        "demo": {"lodges": info.lodges, "grants": info.grants, "seconds": round(seed_seconds, 2)}
    }

    print(f"\nin-process (httpx transport), {args.seconds:g} s each:")
    results["in_process"] = {}
    with httpx.Client(transport=emu.transport(), base_url="http://emulator/v1",
                      headers={"Authorization": f"Bearer {TOKEN}"}) as client:  # fmt: skip
        for name, call in calls.items():
            row = measure(client, call, args.seconds)
            results["in_process"][name] = row
            print(f"  {name:28} {row['rps']:>9.1f} req/s  ({row['errors']} errors)")

    base_url = emu.start_background(host="127.0.0.1", port=0)
    try:
        print(f"\nover HTTP at {base_url}, one keep-alive client, {args.seconds:g} s each:")
        results["http"] = {}
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {TOKEN}"},
                          timeout=30) as client:  # fmt: skip
            for name, call in calls.items():
                row = measure(client, call, args.seconds)
                results["http"][name] = row
                print(f"  {name:28} {row['rps']:>9.1f} req/s  ({row['errors']} errors)")
        print(f"\nload: {args.connections} connections for {args.duration:g} s (mixed calls)")
        load = load_run(base_url, list(calls.values()), args.connections, args.duration)
        results["load"] = load
        print(f"  {load['requests']} requests, {load['rps']} req/s, {load['errors']} errors")
        for error in load["first_errors"]:
            print(f"  e.g. {error}")
    finally:
        emu.stop()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"\nwritten to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}"
    )
    return 1 if results["load"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
