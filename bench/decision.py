"""How long a decision takes, alone and in a burst, with its Ninox refresh over HTTP.

1. ``application_submit`` one after another against the emulator as it answers (a few
   ms): p50/p95 and the Ninox calls per decision.
2. Then Ninox made realistic: the emulator's ``latency`` fault at ``--latency`` ms per
   call (300 by default). A single decision with coalescing on (the baseline); a burst
   of ``--burst`` applications for different lodges arriving together (every thread
   gets ready, then all arrive at one instant and are timed from it), with coalescing
   on and off; and ``--one-lodge`` applications for one lodge at once, on and off. Each
   reports Ninox calls, p50, p95 and max decision latency, outcomes, and "Ninox
   unreachable" reviews.

Decision emails are queued for a worker, as in production, not sent inside the
request as the test settings would. The goal (issue 21): the coalesced burst's p95 at most
3x the single decision's and at most a third of the uncoalesced burst's.

A burst is served as the README's gunicorn serves it: ``--processes`` worker processes
(3, as ``--workers 3``), each deciding its share of the applications on threads (as
``--threads``), all arriving at one instant; the Ninox emulator answers from
this process over HTTP. Each worker process first decides one application for a lodge
outside the burst, as a worker that has been serving is warm (``--cold`` leaves that out:
the burst is then each process's first work, as just after a deploy). ``--processes 1``
runs every application on threads of this process (one interpreter lock for all fifty).
The bench's database is SQLite unless DATABASE_URL says otherwise (a PostgreSQL run writes ``decision-postgresql.json``);
coalescing uses the data dir's lock file, shared by the processes.
Usage: python bench/decision.py [--decisions 200] [--latency 300] [--burst 50]
       [--one-lodge 20] [--processes 3] [--cold]
"""

from __future__ import annotations

import argparse
import functools
import logging
import multiprocessing
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import write_results
from bench._django import percentile, setup_django


def body(lodge_number: int, amount: str) -> dict[str, str]:
    from django.utils import timezone

    return {
        "lodge_number": str(lodge_number),
        "contact_name": "Bench",
        "contact_email": "bench@example.org",
        "charity_name": "Food bank",
        "purpose": "Benchmark",
        "amount_raised": amount,
        "amount_requested": amount,
        "event_date": timezone.localdate().isoformat(),
    }


def submit_timed(lodge_number: int, amount: str, at: float | None = None) -> tuple[float, Any]:
    """Seconds from the application's arrival to its decision, and the application.

    ``at``: the arrival, a ``time.time()`` shared by a burst (default: now).
    """
    from grants.rules import read_rules_once
    from grants.services.mirror_refresh import arrival
    from grants.views.api import submit_json

    started = time.time() if at is None else at
    arrived = arrival()  # as the API view does, before it reads the body
    # As the API view does: the form and the decision share one read of the rules.
    application = read_rules_once(submit_json)(body(lodge_number, amount), None, arrived)
    return time.time() - started, application


def summary(timings: list[float], applications: list[Any], calls: int) -> dict[str, Any]:
    from grants.services.mirror_refresh import NINOX_UNREACHABLE

    outcomes: dict[str, int] = {}
    for application in applications:
        outcomes[str(application.status)] = outcomes.get(str(application.status), 0) + 1
    return {
        "applications": len(applications),
        "ninox_calls": calls,
        "p50_ms": round(percentile(timings, 0.5) * 1000, 1),
        "p95_ms": round(percentile(timings, 0.95) * 1000, 1),
        "max_ms": round(max(timings) * 1000, 1),
        "outcomes": outcomes,
        "ninox_unreachable_reviews": sum(
            NINOX_UNREACHABLE.split(":")[0] in (a.review_reason or "") for a in applications
        ),
    }


@dataclass(frozen=True)
class Outcome:
    """What a burst's worker process reports of one application."""

    status: str
    review_reason: str


START_MARGIN = 0.5  # seconds from "all ready" to the arrival instant


def decide_together(
    numbers: list[int], amount: str, barrier: Any, start: Any
) -> list[tuple[float, Any] | Exception]:
    """One thread per application, all arriving at one instant.

    ``barrier`` (shared by every process) waits until every thread is ready; its action
    sets ``start.value``, the arrival instant, a moment later. Each thread sleeps until
    that instant and is timed from it. (Released by the barrier itself, the threads woke
    one after another over some 200 ms: a barrier wakes its waiters in turn, and each
    woken thread takes the interpreter's lock from the next.)
    """
    from django.db import connections

    results: list[tuple[float, Any] | Exception] = [RuntimeError("not run")] * len(numbers)

    def worker(index: int) -> None:
        try:
            # A warm server's thread has its database connection (CONN_MAX_AGE): connect first.
            connections["default"].ensure_connection()
            barrier.wait(timeout=120)
            time.sleep(max(0.0, start.value - time.time()))
            results[index] = submit_timed(numbers[index], amount, at=start.value)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(numbers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


WARM = "warm"


def burst_process(
    numbers: list[int],
    warm_number: int | None,
    amount: str,
    barrier: Any,
    start: Any,
    replies: Any,
    go: Any,
    base_url: str,
    overrides: dict[str, Any],
) -> None:
    """A worker process (spawned: its own interpreter, as a gunicorn worker has).

    It first decides one application for ``warm_number`` (a lodge outside the burst), as
    a worker that has been serving has: its imports, caches and compiled queries are
    warm (``None``, ``--cold``: the burst is the process's first work after the WSGI
    module's warm-up, as just after a deploy). It then reports ``WARM`` and waits for
    ``go`` (the parent counts Ninox calls from there) before its threads join the burst.
    """
    import django

    django.setup()
    # kombu warns, once per process, that the in-memory queue has no host: not a figure.
    logging.disable(logging.WARNING)
    from django.conf import settings

    from ninox_backend.ninox.connection import build_client, use_client
    from portal.celery import app as celery_app
    from portal.warmup import warm_up

    warm_up()  # as gunicorn's worker does when it loads portal.wsgi
    for name, value in overrides.items():
        setattr(settings, name, value)
    celery_app.conf.task_always_eager = False
    client = build_client(base_url=base_url, token="bench-token")
    with use_client(client):
        if warm_number is not None:
            submit_timed(warm_number, "25.00")
        replies.put(WARM)
        go.wait(timeout=300)
        results = decide_together(numbers, amount, barrier, start)
    replies.put(
        [
            r
            if isinstance(r, Exception)
            else (r[0], Outcome(str(r[1].status), r[1].review_reason or ""))
            for r in results
        ]
    )


def set_soon(start: Any) -> None:
    """The barrier's action: the arrival instant, once every thread is ready."""
    start.value = time.time() + START_MARGIN


class Instant:
    """``start`` for threads of this process (a shared ``Value`` between processes)."""

    value = 0.0

    def set_soon(self) -> None:
        set_soon(self)


def burst(
    emulator: Any,
    numbers: list[int],
    amount: str,
    *,
    processes: int,
    base_url: str,
    warm_numbers: list[int | None],
) -> dict[str, Any]:
    """``len(numbers)`` applications arriving together, over ``processes`` worker processes
    (each warmed by one application for its lodge in ``warm_numbers`` first)."""
    from django.conf import settings

    calls_before = emulator.calls
    if processes <= 1:
        here = Instant()
        barrier = threading.Barrier(len(numbers), action=here.set_soon)
        results = decide_together(numbers, amount, barrier, here)
    else:
        context = multiprocessing.get_context("spawn")
        start = context.Value("d", 0.0)
        barrier = context.Barrier(len(numbers), action=functools.partial(set_soon, start))
        replies = context.Queue()
        go = context.Event()
        overrides = {
            name: getattr(settings, name)
            for name in ("NINOX_TEAM_ID", "NINOX_DATABASE_ID", "NINOX_COALESCE_REFRESH")
        }
        shares = [numbers[i::processes] for i in range(processes)]
        workers = [
            context.Process(
                target=burst_process,
                args=(share, warm, amount, barrier, start, replies, go, base_url, overrides),
            )
            for share, warm in zip(shares, warm_numbers, strict=True)
            if share
        ]
        for process in workers:
            process.start()
        for _ in workers:
            if replies.get(timeout=300) != WARM:
                raise RuntimeError("a worker process failed to warm up")
        calls_before = emulator.calls  # the warm-up applications' calls are not the burst's
        go.set()
        results = [r for _ in workers for r in replies.get(timeout=300)]
        for process in workers:
            process.join()
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        raise RuntimeError(f"{len(failures)} submissions failed, first: {failures[0]!r}")
    done = [r for r in results if not isinstance(r, Exception)]
    return summary([t for t, _ in done], [a for _, a in done], emulator.calls - calls_before)


def show(label: str, result: dict[str, Any]) -> None:
    print(
        f"{label:<34} calls {result['ninox_calls']:>3}  p50 {result['p50_ms']:>7.1f} ms"
        f"  p95 {result['p95_ms']:>7.1f} ms  max {result['max_ms']:>7.1f} ms"
        f"  {result['outcomes']}  unreachable: {result['ninox_unreachable_reviews']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--latency", type=int, default=300, help="ms per Ninox call")
    parser.add_argument("--singles", type=int, default=10, help="single decisions (baseline)")
    parser.add_argument("--burst", type=int, default=50, help="lodges applying at once")
    parser.add_argument("--one-lodge", type=int, default=20, help="applications for one lodge")
    parser.add_argument(
        "--processes", type=int, default=3, help="worker processes a burst is spread over"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up application per worker process (as just after a deploy)",
    )
    args = parser.parse_args()
    setup_django("decision")
    logging.disable(logging.INFO)  # one line per sync and per email would bury the figures

    from decimal import Decimal

    from django.conf import settings
    from django.db import connection

    from grants.models import Lodge
    from grants.rules import current_fiscal_year
    from grants.selectors.budgets import lodge_budget
    from ninox_backend.emulator import Emulator
    from ninox_backend.ninox.connection import build_client, use_client
    from ninox_backend.ninox.mirror import sync_mirror
    from portal.celery import app as celery_app

    # As in production, the decision email is queued for a worker (the test settings would
    # send it inside the request); the bench has no worker, the queue is in memory.
    celery_app.conf.task_always_eager = False
    emulator = Emulator(token="bench-token")
    emulator.seed_demo(seed=3, lodges=240)
    base_url = emulator.start_background()
    settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID = "demo", "grants"
    client = build_client(base_url=base_url, token="bench-token")
    timings: list[float] = []
    with use_client(client):
        sync_mirror(full=True)
        sync_mirror()  # the read after a load re-reads each table's tail once
        lodges = list(Lodge.objects.filter(active=True).order_by("number"))
        outcomes: dict[str, int] = {}
        calls_before = emulator.calls
        for index in range(args.decisions):
            seconds, application = submit_timed(lodges[index % len(lodges)].number, "25.00")
            timings.append(seconds)
            outcomes[str(application.status)] = outcomes.get(str(application.status), 0) + 1
        calls = emulator.calls - calls_before
        result: dict[str, Any] = {
            "decisions": args.decisions,
            "p50_ms": round(percentile(timings, 0.5) * 1000, 2),
            "p95_ms": round(percentile(timings, 0.95) * 1000, 2),
            "ninox_calls_per_decision": round(calls / args.decisions, 3),
            "outcomes": outcomes,
        }
        print(f"decisions: {args.decisions}  outcomes: {outcomes}")
        print(
            f"p50 {result['p50_ms']} ms   p95 {result['p95_ms']} ms"
            f"   Ninox calls per decision: {result['ninox_calls_per_decision']}"
        )

        # Ninox as it really answers: hundreds of ms per call.
        emulator.faults.configure(f"latency={args.latency}ms")
        fy = current_fiscal_year().key
        cap = Decimal("4000.00")
        room = [
            lodge for lodge in lodges if lodge_budget(lodge.id, fy, cap).remaining >= Decimal("50")
        ]
        # The one-lodge runs use lodges with nothing this year that the singles and the
        # burst leave alone, so "as many approvals as the cap allows" is the same figure.
        empty = [
            lodge
            for lodge in room[max(args.burst, args.singles) :]
            if lodge_budget(lodge.id, fy, cap).remaining == cap
        ]
        # One lodge per worker process for its warm-up application, outside every run.
        spare = [
            lodge.number
            for lodge in room[max(args.burst, args.singles) :]
            if lodge not in empty[:2]
        ][: args.processes]
        if (
            len(room) < max(args.burst, args.singles)
            or len(empty) < 2
            or len(spare) < args.processes
        ):
            raise SystemExit(f"the demo has {len(room)} lodges with room, {len(empty)} unused")
        bursts: dict[str, Any] = {
            "latency_ms": args.latency,
            "database": connection.vendor,
            "limiter_timeout_s": settings.NINOX_LIMITER_TIMEOUT_SECONDS,
            "processes": args.processes,
            "warm_workers": not args.cold,
        }
        singles: list[float] = []
        single_apps: list[Any] = []
        calls_before = emulator.calls
        for index in range(args.singles):
            seconds, application = submit_timed(room[index].number, "25.00")
            singles.append(seconds)
            single_apps.append(application)
        bursts["single"] = summary(singles, single_apps, emulator.calls - calls_before)
        show("single decision (coalescing on)", bursts["single"])
        numbers = [lodge.number for lodge in room[: args.burst]]
        runs = (
            (
                "burst_coalesced",
                True,
                numbers,
                "25.00",
                f"{args.burst} lodges at once, coalescing on",
            ),
            ("burst_uncoalesced", False, numbers, "25.00", f"{args.burst} lodges at once, off"),
            (
                "one_lodge_coalesced",
                True,
                [empty[0].number] * args.one_lodge,
                "500.00",
                f"{args.one_lodge} for one lodge, coalescing on",
            ),
            (
                "one_lodge_uncoalesced",
                False,
                [empty[1].number] * args.one_lodge,
                "500.00",
                f"{args.one_lodge} for one lodge, off",
            ),
        )
        for key, coalesce, lodge_numbers, amount, label in runs:
            settings.NINOX_COALESCE_REFRESH = coalesce
            bursts[key] = burst(
                emulator,
                lodge_numbers,
                amount,
                processes=args.processes,
                base_url=base_url,
                warm_numbers=[None] * args.processes if args.cold else list(spare),
            )
            show(label, bursts[key])
        settings.NINOX_COALESCE_REFRESH = True
    emulator.stop()
    single_p95 = bursts["single"]["p95_ms"]
    burst_p95 = bursts["burst_coalesced"]["p95_ms"]
    bursts["burst_p95_vs_single"] = round(burst_p95 / single_p95, 2)
    bursts["burst_p95_vs_uncoalesced"] = round(burst_p95 / bursts["burst_uncoalesced"]["p95_ms"], 2)
    print(
        f"burst p95 / single p95: x{bursts['burst_p95_vs_single']} (goal <= 3);"
        f" burst p95 / uncoalesced p95: x{bursts['burst_p95_vs_uncoalesced']} (goal <= 0.33)"
    )
    result["burst"] = bursts
    # SQLite (the default) writes decision.json; a DATABASE_URL run on PostgreSQL its own file.
    name = "decision" if bursts["database"] == "sqlite" else f"decision-{bursts['database']}"
    name += "-cold" if args.cold else ""
    print(f"wrote {write_results(name, result)}")


if __name__ == "__main__":
    main()
