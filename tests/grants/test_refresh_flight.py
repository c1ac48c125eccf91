"""The shared refresh: a result is reused only by callers that arrived before its refresh started.

Ordering is made with events and explicit arrivals (``arrive()`` is the moment an
application arrived), never with sleeps; every test runs on the file store and on the
Redis store (with a real ``redis-server``; skipped without one).
"""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from grants.services.refresh_flight import (
    FileFlightStore,
    FlightStore,
    FlightTimeout,
    Landing,
    RedisFlightStore,
    RefreshFlight,
    flight_name,
)

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30  # seconds an event may take on a loaded machine before the test fails


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.redis_service import redis_server

    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["file", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FlightStore]:
    if request.param == "file":
        yield FileFlightStore(tmp_path / "locks", "refresh-test")
        return
    import redis

    connection = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    connection.flushdb()
    yield RedisFlightStore(connection, "refresh-test", lease=30)
    connection.close()


class Refresh:
    """A refresh that counts its runs and, when asked, holds until released."""

    def __init__(self, *, hold: bool = False) -> None:
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self) -> dict[str, Any]:
        self.runs += 1
        run = self.runs
        self.started.set()
        assert self.release.wait(WAIT), "the test never released the refresh"
        return {"run": run}


def in_thread(work: Callable[[], Landing]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # the test reads it
            box.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def test_a_lone_caller_runs_its_own_refresh(store: FlightStore) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    refresh = Refresh()
    landing = flight.wait(flight.arrive(), refresh)
    assert landing == Landing({"run": 1}, generation=1, led=True)


def test_a_caller_arriving_after_a_refresh_finished_runs_a_new_one(store: FlightStore) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    refresh = Refresh()
    flight.wait(flight.arrive(), refresh)
    landing = flight.wait(flight.arrive(), refresh)
    assert (landing.result, landing.led, refresh.runs) == ({"run": 2}, True, 2)


def test_a_refresh_started_before_the_arrival_is_never_used(store: FlightStore) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    refresh = Refresh(hold=True)
    leader, led = in_thread(lambda: flight.wait(flight.arrive(), refresh))
    assert refresh.started.wait(WAIT)
    late = flight.arrive()  # the application arrives while the first refresh runs
    refresh.release.set()
    leader.join(WAIT)
    landing = flight.wait(late, refresh)
    assert led[0].result == {"run": 1}
    assert landing.result == {"run": 2}, "reused a refresh that started before it arrived"
    assert landing.led
    assert refresh.runs == 2


def test_callers_that_arrived_before_a_refresh_started_share_its_result(
    store: FlightStore,
) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    early = [flight.arrive() for _ in range(3)]
    refresh = Refresh()
    first = flight.wait(early[0], refresh)
    others = [flight.wait(ticket, refresh) for ticket in early[1:]]
    assert first.led
    assert refresh.runs == 1
    assert [(o.result, o.generation, o.led) for o in others] == [({"run": 1}, 1, False)] * 2


def test_callers_arriving_during_a_refresh_all_share_the_next_one(store: FlightStore) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    refresh = Refresh(hold=True)
    leader, _ = in_thread(lambda: flight.wait(flight.arrive(), refresh))
    assert refresh.started.wait(WAIT)
    tickets = [flight.arrive() for _ in range(10)]
    waiters = [in_thread(functools.partial(flight.wait, ticket, refresh)) for ticket in tickets]
    refresh.release.set()
    leader.join(WAIT)
    for thread, _ in waiters:
        thread.join(WAIT)
    landings = [box[0] for _, box in waiters]
    assert {landing.result["run"] for landing in landings} == {2}
    assert sum(landing.led for landing in landings) == 1
    assert refresh.runs == 2


def test_a_refresh_that_raises_is_not_shared(store: FlightStore) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    ticket = flight.arrive()

    def broken() -> dict[str, Any]:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        flight.wait(ticket, broken)
    refresh = Refresh()
    landing = flight.wait(ticket, refresh)
    assert landing.led
    assert landing.result == {"run": 1}


def test_a_waiter_gives_up_when_the_refresh_stays_busy(store: FlightStore) -> None:
    refresh = Refresh(hold=True)
    holder = RefreshFlight(store, timeout=WAIT)
    leader, _ = in_thread(lambda: holder.wait(holder.arrive(), refresh))
    assert refresh.started.wait(WAIT)
    impatient = RefreshFlight(store, timeout=0.05)
    try:
        with pytest.raises(FlightTimeout, match="stayed busy"):
            impatient.wait(impatient.arrive(), Refresh())
    finally:
        refresh.release.set()
        leader.join(WAIT)


def test_a_ticket_counts_the_refreshes_of_every_flight_of_the_database(
    store: FlightStore, tmp_path: Path
) -> None:
    # Two flights of one database (Grants alone; Lodges and Grants) share its counter.
    grants = RefreshFlight(store, timeout=WAIT)
    other = _sibling(store, tmp_path, "refresh-lodges-grants")
    both = RefreshFlight(other, timeout=WAIT)
    ticket = grants.arrive()  # taken when the request arrived, before its flight was known
    assert both.wait(both.arrive(), Refresh()).generation == 1
    landing = grants.wait(ticket, Refresh())
    assert (landing.generation, landing.led) == (2, True)
    late = grants.arrive()
    assert late.after == 2
    # Grants' result (number 2) started before ``late``: the next one runs.
    assert both.wait(late, Refresh()).led
    assert grants.wait(late, Refresh()).led


def test_a_result_from_before_the_counter_was_reset_is_never_reused(
    store: FlightStore, tmp_path: Path
) -> None:
    flight = RefreshFlight(store, timeout=WAIT)
    refresh = Refresh()
    for _ in range(3):
        flight.wait(flight.arrive(), refresh)
    _reset_counter(store)
    ticket = flight.arrive()
    assert ticket.after == 0
    landing = flight.wait(ticket, refresh)
    assert landing.led, "reused a result numbered before the counter was reset"
    assert (landing.result, landing.generation) == ({"run": 4}, 1)


def _sibling(store: FlightStore, tmp_path: Path, name: str) -> FlightStore:
    """Another flight's store beside ``store``, with the same database counter."""
    if isinstance(store, FileFlightStore):
        return FileFlightStore(store.directory, name)
    assert isinstance(store, RedisFlightStore)
    return RedisFlightStore(store.redis, name, lease=30)


def _reset_counter(store: FlightStore) -> None:
    if isinstance(store, FileFlightStore):
        store.counter_path.unlink()
    else:
        assert isinstance(store, RedisFlightStore)
        store.redis.delete(store.counter_key)


LEADER = """
import sys, time
from pathlib import Path
from grants.services.refresh_flight import FileFlightStore, RefreshFlight
directory, started, release = (Path(p) for p in sys.argv[1:4])
flight = RefreshFlight(FileFlightStore(directory, "refresh-test"), timeout=30)

def refresh():
    started.write_text("yes")
    for _ in range(3000):  # until the test releases it (at most 30 s)
        if release.exists():
            return {"run": "other process"}
        time.sleep(0.01)
    raise SystemExit("never released")

print(flight.wait(flight.arrive(), refresh).result["run"])
"""


def test_another_process_s_refresh_is_shared_only_with_those_that_arrived_before_it(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "locks"
    store = FileFlightStore(directory, "refresh-test")
    flight = RefreshFlight(store, timeout=WAIT)
    early = flight.arrive()
    started, release = tmp_path / "started", tmp_path / "release"
    process = subprocess.Popen(
        [sys.executable, "-c", LEADER, str(directory), str(started), str(release)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not started.exists():  # until the other process's refresh is running
            assert process.poll() is None, "the leading process ended early"
            assert time.monotonic() < deadline, "the leading process never started its refresh"
            time.sleep(0.01)
        late = flight.arrive()
        release.write_text("go")
        out, _ = process.communicate(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()
    assert out.strip() == "other process"
    assert flight.wait(early, Refresh()).result == {"run": "other process"}
    landing = flight.wait(late, Refresh())
    assert landing.led
    assert landing.result == {"run": 1}


def test_flight_names_are_safe_as_file_names_and_differ_per_database() -> None:
    name = flight_name("team/../x", "db one", "grants")
    assert name.startswith("refresh-")
    assert "/" not in name
    assert " " not in name
    assert name != flight_name("team/../x", "db two", "grants")
