"""What keeping a mirror fresh costs: first sync, incremental sync, naive refresh.

    .venv/bin/python bench/ninox_sync.py [--lodges 1000] [--grants 50000] [--changes 10]

On the emulator's demo (in-process transport, no Django), prints API calls and
seconds for (a) a first full sync with ``SyncEngine``, (b) an incremental sync after
``--changes`` records were updated through the client (after the one settling
sync that re-reads each table's tail after a load), and (c) a naive refresh that
pages through every record of both tables at Ninox's documented default of 100 per
page, and the ratio naive / incremental calls (goal: at least 100x). Writes
``bench/results/ninox_sync.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import shown, write_results
from ninox_backend import NinoxClient, Record
from ninox_backend.emulator import Emulator
from ninox_backend.sync import InMemorySyncStateStore, SyncEngine

TOKEN = "bench-sync-token"
BASE_URL = "http://emulator/v1"
NAIVE_PER_PAGE = 100
GOAL = 100


class CountingHandler:
    """A sync handler that only counts what it is handed."""

    def __init__(self) -> None:
        self.upserted = 0
        self.deleted = 0

    def upsert(self, records: list[Record]) -> None:
        self.upserted += len(records)

    def delete(self, ids: list[int]) -> None:
        self.deleted += len(ids)


def timed(label: str, run: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = run()
    seconds = time.perf_counter() - start
    print(f"  {label} done in {seconds:.2f} s", flush=True)
    return value, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--lodges", type=int, default=1000)
    parser.add_argument("--grants", type=int, default=50000)
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args(argv)

    emu = Emulator(token=TOKEN)
    info, seed_seconds = timed(
        f"demo of {args.lodges:,} lodges and {args.grants:,} grants",
        lambda: emu.seed_demo(seed=42, lodges=args.lodges, grants=args.grants),
    )
    client = NinoxClient(token=TOKEN, base_url=BASE_URL, transport=emu.transport())
    db = client.database(info.team_id, info.database_id)
    handlers = {"Lodges": CountingHandler(), "Grants": CountingHandler()}
    engine = SyncEngine(db, InMemorySyncStateStore(), handlers)

    # (a) first sync: the whole of both tables, at the engine's page size
    first, first_seconds = timed("first sync", engine.sync)
    mirrored = {name: h.upserted for name, h in handlers.items()}
    assert mirrored == {"Lodges": info.lodges, "Grants": info.grants}, mirrored
    # The sync after a load re-reads what lay above each table's first-page mark, once.
    settle, settle_seconds = timed("settling sync after the load", engine.sync)

    # (b) change records through the client (not counted), then sync again
    grants = db.table("Grants")
    step = max(1, info.grants // args.changes)
    changed_ids = [1 + i * step for i in range(args.changes)]
    for record_id in changed_ids:
        grants.update(record_id, {"Purpose": f"changed for the bench ({record_id})"})
    before = handlers["Grants"].upserted
    incremental, incremental_seconds = timed(
        f"incremental sync after {args.changes} changes", engine.sync
    )
    assert not incremental.full
    assert handlers["Grants"].upserted - before == args.changes, "every change was mirrored"

    # (c) naive refresh: page through every record of both tables at perPage=100
    def naive() -> tuple[int, int]:
        records = 0
        with client.counting() as counter:
            for name in ("Lodges", "Grants"):
                for page in db.table(name).iter_pages(NAIVE_PER_PAGE):
                    records += len(page)
        return counter.calls, records

    (naive_calls, naive_records), naive_seconds = timed("naive refresh", naive)
    assert naive_records == info.lodges + info.grants

    rows = [
        {
            "run": "first sync (SyncEngine, perPage=100)",
            "calls": first.calls,
            "seconds": round(first_seconds, 2),
            "records": first.created,
        },
        {
            "run": "settling sync after the load (once)",
            "calls": settle.calls,
            "seconds": round(settle_seconds, 2),
            "records": settle.updated,
        },
        {
            "run": f"incremental after {args.changes} changes",
            "calls": incremental.calls,
            "seconds": round(incremental_seconds, 3),
            "records": incremental.created + incremental.updated + incremental.deleted,
        },
        {
            "run": f"naive refresh (perPage={NAIVE_PER_PAGE})",
            "calls": naive_calls,
            "seconds": round(naive_seconds, 2),
            "records": naive_records,
        },
    ]
    ratio = naive_calls / max(1, incremental.calls)
    print(f"\n{'run':40} {'API calls':>10} {'seconds':>9} {'records':>9}")
    print("-" * 71)
    for row in rows:
        print(f"{row['run']:40} {row['calls']:>10,} {row['seconds']:>9} {row['records']:>9,}")
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"\nnaive / incremental calls: {ratio:,.0f}x ({verdict} the goal of {GOAL}x)")

    path = write_results(
        "ninox_sync",
        {
            "demo": {
                "lodges": info.lodges,
                "grants": info.grants,
                "seed_seconds": round(seed_seconds, 2),
            },
            "transport": "in-process",
            "rows": rows,
            "naive_over_incremental_calls": round(ratio, 1),
            "goal": GOAL,
            "meets_goal": ratio >= GOAL,
        },
    )
    print(f"written to {shown(path)}")
    emu.close()
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
