"""Single-flight refresh: decisions that arrive together share one Ninox refresh.

A decision needs the mirror at least as fresh as the moment its application
arrived. A refresh that *started* after that moment sees everything the
application's own refresh would have seen, so concurrent decisions may share one,
and Ninox (one call at a time per key) answers one refresh instead of fifty.

The rule, with numbered refreshes ("generations"):

- ``arrive()`` returns a ticket: the number of the last refresh *started* so far.
  A refresh numbered above the ticket started after the arrival.
- ``wait(ticket, refresh)`` takes the flight's run lock (one refresh at a time),
  then reads the state: when a refresh numbered above the ticket has finished, its
  result is the answer (it started after the arrival). Otherwise this caller leads:
  it stores ``started + 1`` *before* calling Ninox, runs ``refresh()``, stores the
  result as finished and returns it. A refresh already running at arrival holds a
  number not above the ticket, so it is never used: the caller waits for it to end
  and then leads (or joins) the next one.

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
from dataclasses import dataclass
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
    """Where a flight's state and run lock live (shared by the threads and processes that decide)."""

    def read(self) -> FlightState: ...

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
        return Ticket(after=self.store.read().started)

    def wait(self, ticket: Ticket, refresh: Callable[[], JsonDict]) -> Landing:
        """The result of a refresh that started after ``ticket``: a shared one or our own.

        Raises ``FlightTimeout`` when the run lock stayed taken for ``timeout`` seconds.
        Whatever ``refresh`` raises propagates, and its result is not shared.
        """
        with self.store.run_lock(self.timeout):
            state = self.store.read()
            if state.finished > ticket.after and state.result is not None:
                return Landing(state.result, state.finished, led=False)
            generation = state.started + 1
            # Stored before Ninox is called: anyone arriving from now on needs a later one.
            self.store.write(FlightState(generation, state.finished, state.result))
            result = refresh()
            self.store.write(FlightState(generation, generation, result))
            return Landing(result, generation, led=True)


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
    """A ``flock`` on ``<name>.lock`` runs the refresh; the state is JSON in ``<name>.state``.

    The state file is read under a shared ``flock`` and overwritten in place under an
    exclusive one, padded with spaces to its size, so a reader never sees half a write.
    (A rename or a truncate per write costs milliseconds on a busy journalled disk.)
    """

    def __init__(self, directory: str | os.PathLike[str], name: str, poll: float = 0.005) -> None:
        self.directory = Path(directory)
        self.name = name
        self.poll = poll
        self.lock_path = self.directory / f"{name}.lock"
        self.state_path = self.directory / f"{name}.state"

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


# Release the run lock only when it is still ours (the lease may have lapsed meanwhile).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisFlightStore:
    """The state in a Redis hash; the run lock a ``SET NX PX`` key with a lease."""

    def __init__(self, redis: Any, name: str, *, lease: float, poll: float = 0.005) -> None:
        self.redis = redis
        self.name = name
        self.lease_ms = max(1, int(lease * 1000))
        self.poll = poll
        self.state_key = f"refresh-flight:{name}:state"
        self.lock_key = f"refresh-flight:{name}:lock"
        self._release = redis.register_script(_RELEASE)

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
