"""Parallel-call limiters: at most ``limit`` calls in flight per API key.

Ninox limits parallel calls per key, so every request takes a slot from a
limiter first. A limiter is anything with ``acquire(key, timeout) -> Lease``;
the lease is released after the call (it is also a context manager). ``key``
is a hash of the API key, never the key itself.

- :class:`InProcessLimiter` (default): shared by all clients of one process.
- :class:`FileLockLimiter`: ``fcntl.flock`` on files in a directory, shared by
  all processes of one machine; the OS drops a dead holder's lock.
- :class:`RedisLimiter`: a semaphore in Redis with a lease timeout, shared by
  every process of every machine; a crashed holder blocks others at most ``lease``
  seconds. Needs the ``redis`` package (imported only when used).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .exceptions import NinoxLimiterTimeout

__all__ = [
    "FileLockLimiter",
    "InProcessLimiter",
    "Lease",
    "Limiter",
    "NullLimiter",
    "RedisLimiter",
    "limiter_key",
]

logger = logging.getLogger("ninox_backend")


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

    def __exit__(self, *exc_info: object) -> None:
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


# Atomic: drop expired holders, then take a slot if one is free. The clock is the Redis
# server's, so machines with skewed clocks agree on when a lease ends.
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], now_ms + tonumber(ARGV[3]), ARGV[1])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
    return 1
end
return 0
"""


class RedisLimiter:
    """A semaphore in Redis with a lease timeout: ``limit`` holders per key, on any machine.

    Each key is a sorted set of holder tokens scored by the lease's expiry (Redis
    server time, ms). Acquiring runs one Lua script (drop expired holders, add ours
    when fewer than ``limit`` remain); releasing removes our token. A holder that
    dies keeps its slot until ``lease`` seconds pass, so ``lease`` must be longer
    than any call (the client's timeout and retries' waits are outside the slot).

    ``url_or_client`` is a ``redis://`` URL or a ``redis.Redis`` client. A Redis
    that cannot be reached raises :class:`NinoxLimiterTimeout` (a Ninox failure the
    caller already handles), never the URL, which may hold a password.
    """

    def __init__(
        self,
        url_or_client: Any,
        limit: int = 1,
        lease: float = 60.0,
        poll: float = 0.01,
        prefix: str = "ninox-limiter",
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if lease <= 0:
            raise ValueError("lease must be positive")
        if isinstance(url_or_client, str):
            import redis  # optional dependency: only RedisLimiter needs it

            self.redis = redis.Redis.from_url(
                url_or_client, socket_timeout=5.0, socket_connect_timeout=5.0
            )
        else:
            self.redis = url_or_client
        self.limit = limit
        self.lease = lease
        self.poll = poll
        self.prefix = prefix
        self._acquire_script = self.redis.register_script(_ACQUIRE)

    def _name(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    def acquire(self, key: str, timeout: float | None = None) -> Lease:
        name = self._name(key)
        token = uuid.uuid4().hex
        lease_ms = max(1, int(self.lease * 1000))
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                taken = self._acquire_script(keys=[name], args=[token, self.limit, lease_ms])
            except Exception as exc:  # redis.RedisError and socket errors alike
                raise NinoxLimiterTimeout(
                    f"the Redis limiter is unavailable ({type(exc).__name__})"
                ) from None
            if taken:
                return Lease(functools.partial(self._release, name, token))
            if deadline is not None and time.monotonic() >= deadline:
                raise NinoxLimiterTimeout(
                    f"no free Ninox call slot after {timeout}s (limit {self.limit} per key)"
                )
            # A little jitter so waiting processes do not poll in lockstep.
            time.sleep(self.poll * random.uniform(0.5, 1.5))

    def _release(self, name: str, token: str) -> None:
        try:
            self.redis.zrem(name, token)
        except Exception as exc:
            # The lease runs out on its own; a failed release only delays the next caller.
            logger.warning("could not release a Redis limiter slot (%s)", type(exc).__name__)

    def holders(self, key: str) -> int:
        """Slots held for ``key`` right now (leases not yet expired)."""
        seconds, micros = self.redis.time()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        return int(self.redis.zcount(self._name(key), f"({now_ms}", "+inf"))

    def __repr__(self) -> str:
        # Never the URL: it may carry a password.
        return f"RedisLimiter(limit={self.limit}, lease={self.lease}, prefix={self.prefix!r})"
