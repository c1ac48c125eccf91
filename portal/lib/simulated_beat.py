"""Beat's schedule run against a simulated clock: what a day or a month of periodic work costs.

``run_schedule`` runs each entry of ``CELERY_BEAT_SCHEDULE`` at its due times between
two moments, in time order, with Django's clock (``timezone.now``) and the Ninox
client's clock moved to each due time, and counts what each entry cost with a
``count`` callable (e.g. the emulator's HTTP call counter). The idle-cost test and
``bench/ninox_sync.py`` use it; nothing in production does.
"""

from __future__ import annotations

import heapq
import importlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.utils import timezone


@dataclass
class EntryCost:
    """What one schedule entry did over the run."""

    name: str
    task: str
    runs: int = 0
    cost: int = 0
    #: wall-clock seconds its runs took (the simulation's own speed, not Ninox's)
    seconds: float = 0.0
    results: Counter[str] = field(default_factory=Counter)


class SimulatedClock:
    """An aware UTC ``now()`` that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start")
        self.current = start.astimezone(UTC)

    def now(self) -> datetime:
        return self.current

    def advance_to(self, moment: datetime) -> None:
        self.current = max(self.current, moment.astimezone(UTC))


@contextmanager
def clock_installed(clock: SimulatedClock, *clients: Any) -> Iterator[SimulatedClock]:
    """Django's ``timezone.now`` and each Ninox client's ``now`` read ``clock`` in the block."""
    original = timezone.now
    saved = [(client, client.now) for client in clients]
    timezone.now = clock.now
    for client in clients:
        client.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = original
        for client, now in saved:
            client.now = now


def _task(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def due_times(schedule: Any, start: datetime, end: datetime, tz: str) -> Iterator[datetime]:
    """When beat runs an entry in ``(start, end]``: every period after ``start``, or a crontab."""
    if isinstance(schedule, int | float | timedelta):
        step = schedule if isinstance(schedule, timedelta) else timedelta(seconds=schedule)
        moment = start + step
        while moment <= end:
            yield moment
            moment += step
        return
    if isinstance(schedule, crontab):
        zone = ZoneInfo(tz)
        fields: Any = schedule  # crontab's parsed sets (minute, hour, …) are not in its stubs
        moment = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
        while moment <= end:
            local = moment.astimezone(zone)
            if (
                local.minute in fields.minute
                and local.hour in fields.hour
                and local.day in fields.day_of_month
                and local.month in fields.month_of_year
                and local.isoweekday() % 7 in fields.day_of_week
            ):
                yield moment
            moment += timedelta(minutes=1)
        return
    raise TypeError(f"cannot simulate a schedule of type {type(schedule).__name__}")


def run_schedule(
    schedule: Mapping[str, Mapping[str, Any]],
    *,
    clock: SimulatedClock,
    until: datetime,
    count: Callable[[], int],
    only: Iterable[str] | None = None,
    tz: str = "UTC",
) -> dict[str, EntryCost]:
    """Run the entries (``only`` those named, if given) at their due times until ``until``.

    Entries due at the same moment run in the schedule's order. Returns each entry's
    runs, cost (the change in ``count()`` around its runs) and results.
    """
    names = [name for name in schedule if only is None or name in set(only)]
    start = clock.now()
    costs = {name: EntryCost(name, str(schedule[name]["task"])) for name in names}
    streams = {name: due_times(schedule[name]["schedule"], start, until, tz) for name in names}
    queue: list[tuple[datetime, int, str]] = []
    for order, name in enumerate(names):
        first = next(streams[name], None)
        if first is not None:
            queue.append((first, order, name))
    heapq.heapify(queue)
    tasks = {name: _task(costs[name].task) for name in names}
    while queue:
        moment, order, name = heapq.heappop(queue)
        clock.advance_to(moment)
        entry = schedule[name]
        before, started = count(), time.perf_counter()
        result = tasks[name](*entry.get("args", ()), **entry.get("kwargs", {}))
        cost = costs[name]
        cost.seconds += time.perf_counter() - started
        cost.cost += count() - before
        cost.runs += 1
        cost.results[str(result).split(":")[0][:60]] += 1
        following = next(streams[name], None)
        if following is not None:
            heapq.heappush(queue, (following, order, name))
    return costs
