"""Parallel-call limiters: at most ``limit`` calls in flight per API key.

Ninox limits parallel calls per key, so every request takes a slot from a
limiter first. A limiter is anything with ``acquire(key, timeout) -> Lease``;
the lease is released after the call (it is also a context manager). ``key``
is a hash of the API key, never the key itself.

- :class:`InProcessLimiter` (default): shared by all clients of one process.
- :class:`FileLockLimiter`: ``fcntl.flock`` on files in a directory, shared by
  all processes of one machine; the OS drops a dead holder's lock.
- A Redis semaphore (across machines, with a lease timeout) plugs in the same way.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol, runtime_checkable

from .exceptions import NinoxLimiterTimeout

__all__ = [
    "FileLockLimiter",
    "InProcessLimiter",
    "Lease",
    "Limiter",
    "NullLimiter",
    "limiter_key",
]


def limiter_key(token: str) -> str:
    """A stable, non-reversible key for an API key (safe to log or to use as a file name)."""
    return hashlib.sha256(token.encode()).hexdigest()[:24]


class Lease:
    """A held slot. Release it exactly once; extra releases are ignored."""

    def __init__(self, release: Callable[[], None] | None = None) -> None:
        self._release = release
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        if self._release is not None:
            self._release()

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


@runtime_checkable
class Limiter(Protocol):
    """Takes a slot for ``key``, waiting at most ``timeout`` seconds.

    Raises :class:`~ninox_backend.exceptions.NinoxLimiterTimeout` when no slot
    came free in time.
    """

    def acquire(self, key: str, timeout: float | None = None) -> Lease: ...


class NullLimiter:
    """No limit at all (for tests and for servers without a parallel limit)."""

    def acquire(self, key: str, timeout: float | None = None) -> Lease:
        return Lease()


# One semaphore per key for the whole process, so separate clients with the same key share it.
_SEMAPHORES: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_SEMAPHORES_LOCK = threading.Lock()


class InProcessLimiter:
    """A ``threading.BoundedSemaphore`` per key, shared by every client of the process."""

    def __init__(self, limit: int = 1) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit

    def _semaphore(self, key: str) -> threading.BoundedSemaphore:
        with _SEMAPHORES_LOCK:
            semaphore = _SEMAPHORES.get((key, self.limit))
            if semaphore is None:
                semaphore = _SEMAPHORES[(key, self.limit)] = threading.BoundedSemaphore(self.limit)
            return semaphore

    def acquire(self, key: str, timeout: float | None = None) -> Lease:
        semaphore = self._semaphore(key)
        if not semaphore.acquire(timeout=timeout):
            raise NinoxLimiterTimeout(
                f"no free Ninox call slot after {timeout}s (limit {self.limit} per key)"
            )
        return Lease(semaphore.release)

    def __repr__(self) -> str:
        return f"InProcessLimiter(limit={self.limit})"


class FileLockLimiter:
    """``limit`` lock files per key in ``directory``; a call holds one with ``flock``.

    Works across the processes of one machine. A crashed holder's lock is
    released by the OS when its file descriptor closes.
    """

    def __init__(self, directory: str | os.PathLike[str], limit: int = 1, poll: float = 0.01):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.directory = Path(directory)
        self.limit = limit
        self.poll = poll

    def acquire(self, key: str, timeout: float | None = None) -> Lease:
        import fcntl  # POSIX only; imported here so the module loads everywhere

        self.directory.mkdir(parents=True, exist_ok=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            for slot in range(self.limit):
                path = self.directory / f"ninox-{key}-{slot}.lock"
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                return Lease(functools.partial(_unlock, fd))
            if deadline is not None and time.monotonic() >= deadline:
                raise NinoxLimiterTimeout(
                    f"no free Ninox call slot after {timeout}s (limit {self.limit} per key)"
                )
            time.sleep(self.poll)

    def __repr__(self) -> str:
        return f"FileLockLimiter(directory={str(self.directory)!r}, limit={self.limit})"


def _unlock(fd: int) -> None:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
