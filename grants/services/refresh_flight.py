"""Single-flight refresh: decisions that arrive together share one Ninox refresh.

A decision needs the mirror at least as fresh as the moment its application
arrived. A refresh that *started* after that moment sees everything the
application's own refresh would have seen, so concurrent decisions may share one,
and Ninox (one call at a time per key) answers one refresh instead of fifty.

The rule, with numbered refreshes ("generations"):

- Every refresh of one Ninox database, whichever flight runs it (Grants alone, Lodges
  and Grants, one lodge's grants), takes the next number from one counter per
  database *before* it calls Ninox.
- ``arrive()`` returns a ticket: the counter as it stands, i.e. the number of the last
  refresh started so far by anyone. A refresh numbered above the ticket started after
  the arrival. Because the counter is the database's, not the flight's, a ticket can
  be taken the moment a request arrives, before anyone knows which flight (which
  lodge, which tables) the application will need.
- ``wait(ticket, refresh)`` takes the flight's run lock (one refresh at a time),
  then reads the state: when the flight's last finished refresh is numbered above
  the ticket, its result is the answer (it started after the arrival). Otherwise this
  caller leads: it takes the next number, stores it as started, runs ``refresh()``,
  stores the result as finished and returns it. A refresh already running at arrival
  holds a number not above the ticket, so it is never used: the caller waits for it
  to end and then leads (or joins) the next one.
- A counter found *below* a flight's finished number was reset (Redis flushed, the
  data dir's counter deleted): that result's number means nothing any more, so it is
  never reused and the next refresh runs.

The state is shared by every thread and process that decides: in Redis when the
portal has one (``REDIS_URL``), otherwise a lock file and a small JSON state file
in the data dir (one machine). A leader that dies leaves its number started but not
finished; the next caller simply runs the next refresh (the OS drops a dead
process's file lock; a Redis lock lapses after its lease).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

JsonDict = dict[str, Any]


class FlightTimeout(Exception):
    """The refresh before this decision neither finished nor could be started in time."""


@dataclass(frozen=True)
class FlightState:
    started: int = 0  # number of the last refresh started
    finished: int = 0  # number of the last refresh finished, whose result follows
    result: JsonDict | None = None


class FlightStore(Protocol):
    """Where a flight's state and run lock live (shared by the threads and processes that decide),
    beside the database's refresh counter (shared by every flight of that database)."""

    @property
    def key(self) -> str:
        """This flight's identity in this process (its file or Redis key)."""

    def read(self) -> FlightState: ...

    def generation(self) -> int:
        """The counter: the number of the last refresh started by any flight (0 at first)."""

    def next_generation(self) -> int:
        """Count one more refresh started and return its number (atomic across processes)."""

    def write(self, state: FlightState) -> None:
        """Store ``state``; called only by the holder of the run lock."""

    def run_lock(self, timeout: float) -> contextlib.AbstractContextManager[None]:
        """Hold the run lock, waiting at most ``timeout`` seconds (else ``FlightTimeout``)."""


@dataclass(frozen=True)
class Ticket:
    """An arrival: refreshes numbered above ``after`` started after it."""

    after: int


@dataclass(frozen=True)
class Landing:
    """What ``wait`` returns: the result, which refresh gave it, and whether this caller ran it."""

    result: JsonDict
    generation: int
    led: bool


class RefreshFlight:
    """One kind of refresh, shared: ``wait(arrive(), refresh)`` is the whole protocol."""

    def __init__(self, store: FlightStore, *, timeout: float) -> None:
        self.store = store
        self.timeout = timeout

    def arrive(self) -> Ticket:
        return Ticket(after=self.store.generation())

    def wait(self, ticket: Ticket, refresh: Callable[[], JsonDict]) -> Landing:
        """The result of a refresh that started after ``ticket``: a shared one or our own.

        Raises ``FlightTimeout`` when the run lock stayed taken for ``timeout`` seconds.
        Whatever ``refresh`` raises propagates, and its result is not shared.

        Within one process, one waiting thread at a time goes to the shared state; when
        it comes back with a landing, every thread of the process whose ticket that
        landing serves returns at once (fifty threads would otherwise take the run lock
        one after another only to read the same result).
        """
        deadline = time.monotonic() + self.timeout
        local = _local_flight(self.store.key)
        with local.changed:
            while True:
                known = local.latest
                if (
                    known is not None
                    and known.generation > ticket.after
                    and known.generation <= self.store.generation()  # not from before a reset
                ):
                    return Landing(known.result, known.generation, led=False)
                if not local.busy:
                    local.busy = True
                    break
                if not local.changed.wait(max(0.0, deadline - time.monotonic())):
                    raise FlightTimeout(f"the refresh {self.store.key!r} stayed busy")
        landing: Landing | None = None
        try:
            landing = self._wait_shared(ticket, refresh, max(0.0, deadline - time.monotonic()))
            return landing
        finally:
            with local.changed:
                local.busy = False
                if landing is not None and (
                    local.latest is None or landing.generation > local.latest.generation
                ):
                    local.latest = landing
                local.changed.notify_all()

    def _wait_shared(
        self, ticket: Ticket, refresh: Callable[[], JsonDict], timeout: float
    ) -> Landing:
        with self.store.run_lock(timeout):
            state = self.store.read()
            if (
                state.result is not None
                and ticket.after < state.finished <= self.store.generation()
            ):
                return Landing(state.result, state.finished, led=False)
            # Counted before Ninox is called: anyone arriving from now on needs a later one.
            generation = self.store.next_generation()
            self.store.write(FlightState(generation, state.finished, state.result))
            result = refresh()
            self.store.write(FlightState(generation, generation, result))
            return Landing(result, generation, led=True)


@dataclass
class _LocalFlight:
    """What the threads of this process know of one flight: the newest landing seen here,
    and whether one of them is at the shared state now."""

    changed: threading.Condition = field(default_factory=threading.Condition)
    latest: Landing | None = None
    busy: bool = False


_LOCAL_FLIGHTS: dict[str, _LocalFlight] = {}
_LOCAL_FLIGHTS_GUARD = threading.Lock()


def _local_flight(key: str) -> _LocalFlight:
    with _LOCAL_FLIGHTS_GUARD:
        return _LOCAL_FLIGHTS.setdefault(key, _LocalFlight())


# Threads of one process queue on this lock first, so only one of them polls the
# cross-process lock at a time.
_PROCESS_LOCKS: dict[str, threading.Lock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(name: str) -> threading.Lock:
    with _PROCESS_LOCKS_GUARD:
        return _PROCESS_LOCKS.setdefault(name, threading.Lock())


@contextlib.contextmanager
def _in_process(name: str, deadline: float) -> Iterator[None]:
    lock = _process_lock(name)
    if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise FlightTimeout(f"the refresh {name!r} stayed busy")
    try:
        yield
    finally:
        lock.release()


STATE_SIZE = 4096  # bytes; a state is a few hundred


class FileFlightStore:
    """A ``flock`` on ``<name>.lock`` runs the refresh; the state is JSON in ``<name>.state``;
    the database's counter is a number in ``<counter>.generation``.

    The state and counter files are read under a shared ``flock`` and overwritten in
    place under an exclusive one, padded with spaces to their size, so a reader never
    sees half a write. (A rename or a truncate per write costs milliseconds on a busy
    journalled disk.)
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        name: str,
        poll: float = 0.005,
        *,
        counter: str = "refresh-counter",
    ) -> None:
        self.directory = Path(directory)
        self.name = name
        self.poll = poll
        self.lock_path = self.directory / f"{name}.lock"
        self.state_path = self.directory / f"{name}.state"
        self.counter_path = self.directory / f"{counter}.generation"

    @property
    def key(self) -> str:
        return str(self.state_path)

    def generation(self) -> int:
        try:
            fd = os.open(self.counter_path, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return _counted(os.read(fd, 64))
        finally:
            os.close(fd)

    def next_generation(self) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.counter_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            generation = _counted(os.pread(fd, 64, 0)) + 1
            os.pwrite(fd, str(generation).encode().ljust(32), 0)
            return generation
        finally:
            os.close(fd)

    def read(self) -> FlightState:
        try:
            fd = os.open(self.state_path, os.O_RDONLY)
        except FileNotFoundError:
            return FlightState()
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            text = os.read(fd, 1 << 16)
        finally:
            os.close(fd)  # closing drops the lock
        try:
            data = json.loads(text)
            return FlightState(int(data["started"]), int(data["finished"]), data.get("result"))
        except (ValueError, KeyError, TypeError):
            return FlightState()  # empty or foreign: the next refresh simply runs

    def write(self, state: FlightState) -> None:
        text = json.dumps(
            {"started": state.started, "finished": state.finished, "result": state.result}
        ).encode()
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = max(STATE_SIZE, os.fstat(fd).st_size, len(text))
            os.pwrite(fd, text.ljust(size), 0)  # JSON ignores the trailing spaces
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def run_lock(self, timeout: float) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout
        with _in_process(str(self.lock_path), deadline):
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise FlightTimeout(f"the refresh {self.name!r} stayed busy") from None
                        time.sleep(self.poll)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def _counted(text: bytes) -> int:
    """The counter file's number (0 when empty or unreadable: a reset, handled by ``wait``)."""
    try:
        return max(0, int(text.strip() or b"0"))
    except ValueError:
        return 0


# Release the run lock only when it is still ours (the lease may have lapsed meanwhile).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisFlightStore:
    """The state in a Redis hash; the run lock a ``SET NX PX`` key with a lease; the
    database's counter an ``INCR`` key."""

    def __init__(
        self,
        redis: Any,
        name: str,
        *,
        lease: float,
        poll: float = 0.005,
        counter: str = "refresh-counter",
    ) -> None:
        self.redis = redis
        self.name = name
        self.lease_ms = max(1, int(lease * 1000))
        self.poll = poll
        self.state_key = f"refresh-flight:{name}:state"
        self.lock_key = f"refresh-flight:{name}:lock"
        self.counter_key = f"refresh-flight:{counter}:generation"
        self._release = redis.register_script(_RELEASE)

    @property
    def key(self) -> str:
        return f"redis:{id(self.redis)}:{self.state_key}"

    def generation(self) -> int:
        return int(self.redis.get(self.counter_key) or 0)

    def next_generation(self) -> int:
        return int(self.redis.incr(self.counter_key))

    def read(self) -> FlightState:
        data = {
            (k.decode() if isinstance(k, bytes) else k): v
            for k, v in self.redis.hgetall(self.state_key).items()
        }
        if not data:
            return FlightState()
        result = data.get("result")
        return FlightState(
            int(data.get("started", 0)),
            int(data.get("finished", 0)),
            json.loads(result) if result else None,
        )

    def write(self, state: FlightState) -> None:
        self.redis.hset(
            self.state_key,
            mapping={
                "started": state.started,
                "finished": state.finished,
                "result": json.dumps(state.result) if state.result is not None else "",
            },
        )

    @contextlib.contextmanager
    def run_lock(self, timeout: float) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        token = uuid.uuid4().hex
        with _in_process(f"redis:{self.lock_key}", deadline):
            while not self.redis.set(self.lock_key, token, nx=True, px=self.lease_ms):
                if time.monotonic() >= deadline:
                    raise FlightTimeout(f"the refresh {self.name!r} stayed busy")
                time.sleep(self.poll * random.uniform(0.5, 1.5))
            try:
                yield
            finally:
                self._release(keys=[self.lock_key], args=[token])


def flight_name(*parts: str) -> str:
    """A file- and key-safe name for a flight (a hash: the parts may hold any text)."""
    return "refresh-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


__all__ = [
    "FileFlightStore",
    "FlightState",
    "FlightStore",
    "FlightTimeout",
    "Landing",
    "RedisFlightStore",
    "RefreshFlight",
    "Ticket",
    "flight_name",
]
