"""What keeping a mirror fresh costs: first sync, incremental sync, naive refresh; and the
portal's Ninox calls per decision and per idle hour, per emulator dialect.

    .venv/bin/python bench/ninox_sync.py [--lodges 1000] [--grants 50000] [--changes 10]
        [--decisions 50] [--idle-hours 24]

Part one, on the emulator's demo (in-process transport, no Django): API calls and
seconds for (a) a first full sync with ``SyncEngine``, (b) an incremental sync after
``--changes`` records were updated through the client, and (c) a naive refresh that
pages through every record of both tables at Ninox's documented default of 100 per
page, and the ratio naive / incremental calls (goal: at least 100x).

Part two, the portal (Django, the demo at its default size, in-process transport),
once per dialect the emulator offers (``docs`` and ``legacy`` on the classic backend,
``workspace`` on the workspace backend, where it has them): Ninox calls per decision
(``application_submit``, ``--decisions`` of them) and per idle hour
(beat's whole schedule for ``--idle-hours`` on a simulated clock), with the month that
makes against its budget: 12,000 calls on the classic API; on the workspace API (no
incremental read: every table whole every ``NINOX_WORKSPACE_FULL_READ_MINUTES``, hourly by
default) the plan's ``NINOX_MONTHLY_QUOTA``, as ``/health/`` shows it. Writes
``bench/results/ninox_sync.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import logging
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
IDLE_MONTH_BUDGET = 12_000
MONTH_HOURS = 31 * 24


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
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--idle-hours", type=int, default=24)
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

    # (a') the next sync: the engine's first daily reconciliation (ids and sequences)
    follow_up, follow_up_seconds = timed("first follow-up sync (reconciliation)", engine.sync)

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
            "run": f"first sync (SyncEngine, perPage={engine.per_page})",
            "calls": first.calls,
            "seconds": round(first_seconds, 2),
            "records": first.created,
        },
        {
            "run": "next sync (the daily reconciliation)",
            "calls": follow_up.calls,
            "seconds": round(follow_up_seconds, 2),
            "records": follow_up.created + follow_up.updated + follow_up.deleted,
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

    emu.close()
    portal_rows = portal_costs(args.decisions, args.idle_hours)
    print(
        f"\n{'backend':10} {'dialect':10} {'calls/decision':>15} {'calls/idle hour':>16} "
        f"{'idle month':>11}"
    )
    print("-" * 66)
    for row in portal_rows:
        print(
            f"{row['backend']:10} {row['dialect']:10} {row['calls_per_decision']:>15} "
            f"{row['calls_per_idle_hour']:>16} {row['idle_month_calls']:>11,}"
        )
    for row in portal_rows:
        if row.get("full_read_minutes"):
            print(
                f"  {row['backend']}/{row['dialect']}: every table read whole every "
                f"{row['full_read_minutes']} minutes (NINOX_WORKSPACE_FULL_READ_MINUTES)"
            )
    for row in portal_rows:
        row["meets_idle_budget"] = row["idle_month_calls"] <= row["idle_month_budget"]
        print(
            f"  {row['backend']}/{row['dialect']}: idle month {row['idle_month_calls']:,} of "
            f"{row['idle_month_budget']:,} ({row['idle_month_budget_is']}): "
            f"{'met' if row['meets_idle_budget'] else 'MISSED'}"
        )
    idle_ok = all(row["meets_idle_budget"] for row in portal_rows)

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
            "portal": portal_rows,
            "idle_month_budget": IDLE_MONTH_BUDGET,
            "idle_month_budget_workspace": "NINOX_MONTHLY_QUOTA (per row: idle_month_budget)",
            "meets_idle_budget": idle_ok,
        },
    )
    print(f"written to {shown(path)}")
    return 0 if ratio >= GOAL and idle_ok else 1


def dialects() -> list[str | None]:
    """The emulator's dialects (``None``: an emulator that has only its one behaviour)."""
    if "dialect" not in inspect.signature(Emulator.__init__).parameters:
        return [None]
    from ninox_backend.emulator.dialects import DIALECTS

    return [d for d in ("docs", "legacy", "workspace") if d in DIALECTS]


def portal_costs(decisions: int, idle_hours: int) -> list[dict[str, Any]]:
    """Ninox calls per decision and per idle hour of the portal, per dialect."""
    from bench._django import setup_django

    setup_django("ninox-sync")
    logging.getLogger("ninox_backend").setLevel(logging.WARNING)  # a line per sync otherwise
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from grants.forms import ApplicationJsonForm
    from grants.models import Lodge
    from grants.services.submit import application_submit
    from ninox_backend.ninox.connection import build_client, use_client
    from ninox_backend.ninox.mirror import sync_mirror
    from portal.lib.simulated_beat import SimulatedClock, clock_installed, run_schedule

    rows = []
    for dialect in dialects():
        call_command("flush", interactive=False, verbosity=0)
        options: dict[str, Any] = {"token": TOKEN} | ({"dialect": dialect} if dialect else {})
        emu = Emulator(**options)
        info = emu.seed_demo(seed=42)
        settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID = info.team_id, info.database_id
        api = "workspace" if dialect == "workspace" else "classic"
        settings.NINOX_API = api
        settings.NINOX_WORKSPACE_ID, settings.NINOX_MODULE = info.team_id, info.database_id
        base_url = BASE_URL.removesuffix("/v1") if api == "workspace" else BASE_URL
        client = build_client(transport=emu.transport(), base_url=base_url, token=TOKEN)
        label = dialect or "default"
        with use_client(client):
            # The first load, and the reconciliation the next sync makes after it, are set-up.
            sync_mirror(full=True)
            sync_mirror()
            lodges = list(Lodge.objects.filter(active=True).order_by("number"))
            before = emu.calls
            outcomes: dict[str, int] = {}
            for index in range(decisions):
                lodge = lodges[index % len(lodges)]
                body = {
                    "lodge_number": str(lodge.number),
                    "contact_name": "Bench",
                    "contact_email": "bench@example.org",
                    "charity_name": "Food bank",
                    "purpose": "Benchmark",
                    "amount_raised": "25.00",
                    "amount_requested": "25.00",
                    "event_date": timezone.localdate().isoformat(),
                }
                application = application_submit(
                    cleaned=ApplicationJsonForm(body).application(), source="api"
                )
                outcomes[application.status] = outcomes.get(application.status, 0) + 1
            per_decision = (emu.calls - before) / decisions
            clock = SimulatedClock(timezone.now())
            started = time.perf_counter()
            with clock_installed(clock, client):
                costs = run_schedule(
                    settings.CELERY_BEAT_SCHEDULE,
                    clock=clock,
                    until=clock.now() + dt.timedelta(hours=idle_hours),
                    count=lambda emu=emu: emu.calls,  # type: ignore[misc]
                    tz=settings.CELERY_TIMEZONE,
                )
            seconds = time.perf_counter() - started
        client.close()
        emu.close()
        idle_calls = sum(entry.cost for entry in costs.values())
        per_hour = idle_calls / idle_hours
        print(f"  {label}: {decisions} decisions, {idle_hours} idle hours in {seconds:.1f} s")
        rows.append(
            {
                "dialect": label,
                "backend": api,
                "decisions": decisions,
                "outcomes": outcomes,
                "calls_per_decision": round(per_decision, 2),
                "idle_hours": idle_hours,
                "calls_per_idle_hour": round(per_hour, 2),
                "idle_month_calls": round(per_hour * MONTH_HOURS),
                "full_read_minutes": (
                    settings.NINOX_WORKSPACE_FULL_READ_MINUTES if api == "workspace" else None
                ),
                # The classic API's idle target; the workspace API (no incremental read, a
                # full read every NINOX_WORKSPACE_FULL_READ_MINUTES) has its own: the plan's
                # quota, which /health/ shows its idle projection against.
                "idle_month_budget": (
                    int(settings.NINOX_MONTHLY_QUOTA) if api == "workspace" else IDLE_MONTH_BUDGET
                ),
                "idle_month_budget_is": (
                    "NINOX_MONTHLY_QUOTA" if api == "workspace" else "the classic idle target"
                ),
                "idle_calls_by_entry": {
                    name: entry.cost for name, entry in costs.items() if entry.cost
                },
            }
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
