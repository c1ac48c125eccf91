"""The parallel-call limit: one call in flight per API key, shared by threads and clients."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
from ninox_fakes import BASE

from ninox_backend import (
    FileLockLimiter,
    InProcessLimiter,
    Limiter,
    NinoxClient,
    NinoxLimiterTimeout,
    NinoxUnavailable,
    NullLimiter,
)
from ninox_backend.limiter import limiter_key


class ConcurrencyProbe:
    """A MockTransport handler that measures how many calls overlap."""

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.in_flight += 1
            self.calls += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        return httpx.Response(200, json=[])


def hammer(clients: list[NinoxClient], calls_each: int = 5) -> None:
    def work(client: NinoxClient) -> None:
        for _ in range(calls_each):
            client.teams()

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_two_threads_never_have_two_calls_in_flight() -> None:
    probe = ConcurrencyProbe()
    client = NinoxClient(token="key-1", base_url=BASE, transport=httpx.MockTransport(probe))
    hammer([client, client])
    assert probe.calls == 10
    assert probe.max_in_flight == 1


def test_separate_clients_with_the_same_key_share_the_limit() -> None:
    probe = ConcurrencyProbe()
    clients = [
        NinoxClient(token="key-shared", base_url=BASE, transport=httpx.MockTransport(probe))
        for _ in range(4)
    ]
    hammer(clients, calls_each=3)
    assert probe.max_in_flight == 1


def test_clients_with_different_keys_do_not_wait_for_each_other() -> None:
    probe = ConcurrencyProbe(delay=0.05)
    clients = [
        NinoxClient(token=f"key-{i}-distinct", base_url=BASE, transport=httpx.MockTransport(probe))
        for i in range(3)
    ]
    hammer(clients, calls_each=2)
    assert probe.max_in_flight > 1


def test_the_limit_is_configurable() -> None:
    probe = ConcurrencyProbe(delay=0.05)
    limiter = InProcessLimiter(limit=3)
    client = NinoxClient(
        token="key-three", base_url=BASE, transport=httpx.MockTransport(probe), limiter=limiter
    )
    hammer([client] * 6, calls_each=2)
    assert 1 < probe.max_in_flight <= 3


def test_waiting_for_a_slot_times_out_with_a_transient_error() -> None:
    limiter = InProcessLimiter(1)
    key = limiter_key("key-busy")
    held = limiter.acquire(key)
    try:
        client = NinoxClient(
            token="key-busy",
            base_url=BASE,
            transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[])),
            limiter=limiter,
            limiter_timeout=0.05,
        )
        with pytest.raises(NinoxLimiterTimeout) as caught:
            client.teams()
    finally:
        held.release()
    assert isinstance(caught.value, NinoxUnavailable)
    assert caught.value.permanent is False
    assert caught.value.path == "/teams"


def test_the_slot_is_released_when_the_call_fails() -> None:
    limiter = InProcessLimiter(1)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = NinoxClient(
        token="key-fail",
        base_url=BASE,
        transport=httpx.MockTransport(refuse),
        limiter=limiter,
        max_retries=0,
    )
    with pytest.raises(NinoxUnavailable):
        client.teams()
    limiter.acquire(limiter_key("key-fail"), timeout=0).release()


def test_a_lease_released_twice_frees_one_slot() -> None:
    limiter = InProcessLimiter(1)
    lease = limiter.acquire("k-twice")
    lease.release()
    lease.release()
    first = limiter.acquire("k-twice", timeout=0)
    with pytest.raises(NinoxLimiterTimeout):
        limiter.acquire("k-twice", timeout=0)
    first.release()


def test_the_file_lock_limiter_holds_the_limit_across_threads(tmp_path: Path) -> None:
    probe = ConcurrencyProbe()
    clients = [
        NinoxClient(
            token="key-file",
            base_url=BASE,
            transport=httpx.MockTransport(probe),
            limiter=FileLockLimiter(tmp_path),  # separate instances, as in separate processes
        )
        for _ in range(3)
    ]
    hammer(clients, calls_each=3)
    assert probe.calls == 9
    assert probe.max_in_flight == 1


def test_the_file_lock_limiter_times_out(tmp_path: Path) -> None:
    limiter = FileLockLimiter(tmp_path, limit=1)
    held = limiter.acquire("k")
    with pytest.raises(NinoxLimiterTimeout):
        FileLockLimiter(tmp_path).acquire("k", timeout=0.02)
    held.release()
    FileLockLimiter(tmp_path).acquire("k", timeout=0).release()


def test_every_limiter_fits_the_protocol(tmp_path: Path) -> None:
    for limiter in (InProcessLimiter(), FileLockLimiter(tmp_path), NullLimiter()):
        assert isinstance(limiter, Limiter)
        with limiter.acquire("k-proto", timeout=1):
            pass
