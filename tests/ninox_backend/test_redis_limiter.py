"""The Redis semaphore: a slot per holder, a lease that frees a dead holder's slot, no secrets.

A real ``redis-server`` is started on a free port for these tests; without one they
skip (and fail under ``REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from ninox_backend import NinoxClient, NinoxLimiterTimeout
from ninox_backend.limiter import RedisLimiter, limiter_key
from tests.redis_service import free_port, redis_server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def connection(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def key_names(connection: redis.Redis) -> list[str]:
    return [k.decode() if isinstance(k, bytes) else str(k) for k in connection.keys("*")]


def redis_now_ms(connection: redis.Redis) -> int:
    """Redis server time in milliseconds: the clock the leases run on."""
    seconds, micros = connection.time()
    return int(seconds) * 1000 + int(micros) // 1000


@pytest.mark.services
def test_a_second_holder_waits_and_times_out(connection: redis.Redis) -> None:
    limiter = RedisLimiter(connection, limit=1)
    with limiter.acquire("k", timeout=1):
        start = time.monotonic()
        with pytest.raises(NinoxLimiterTimeout, match="no free Ninox call slot"):
            limiter.acquire("k", timeout=0.2)
        # It waited out its timeout; how much longer a busy machine took is not its doing.
        assert time.monotonic() - start >= 0.2


@pytest.mark.services
def test_releasing_frees_the_slot(connection: redis.Redis) -> None:
    limiter = RedisLimiter(connection, limit=1)
    limiter.acquire("k", timeout=1).release()
    with limiter.acquire("k", timeout=0.2):
        assert limiter.holders("k") == 1
    assert limiter.holders("k") == 0


@pytest.mark.services
def test_the_limit_is_the_number_of_holders(connection: redis.Redis) -> None:
    limiter = RedisLimiter(connection, limit=2)
    first, second = limiter.acquire("k", timeout=1), limiter.acquire("k", timeout=1)
    with pytest.raises(NinoxLimiterTimeout):
        limiter.acquire("k", timeout=0.1)
    first.release()
    limiter.acquire("k", timeout=0.5).release()
    second.release()


@pytest.mark.services
def test_keys_do_not_share_slots(connection: redis.Redis) -> None:
    limiter = RedisLimiter(connection, limit=1)
    with limiter.acquire("one", timeout=1), limiter.acquire("two", timeout=0.2):
        pass


@pytest.mark.services
def test_a_holder_that_never_releases_blocks_others_only_for_the_lease(
    connection: redis.Redis,
) -> None:
    before = redis_now_ms(connection)
    RedisLimiter(connection, limit=1, lease=0.3).acquire("k", timeout=1)  # never released
    waiting = RedisLimiter(connection, limit=1, lease=120)
    # The timeout only bounds a hang: the slot frees when the dead lease runs out.
    with waiting.acquire("k", timeout=60):
        holders: Any = connection.zrange("ninox-limiter:k", 0, -1, withscores=True)
    [(_, expiry)] = holders  # ours alone, its score the lease's end (admitted + 120 s)
    assert int(expiry) - 120_000 >= before + 300  # not admitted before the dead lease ended


@pytest.mark.services
def test_a_late_release_of_an_expired_lease_does_not_free_the_next_holders_slot(
    connection: redis.Redis,
) -> None:
    stale = RedisLimiter(connection, limit=1, lease=0.2).acquire("k", timeout=1)
    # A long lease for the current holder: however slow the machine, it is still held below.
    limiter = RedisLimiter(connection, limit=1, lease=120)
    current = limiter.acquire("k", timeout=60)  # after the stale lease ran out
    stale.release()
    assert limiter.holders("k") == 1
    with pytest.raises(NinoxLimiterTimeout):
        limiter.acquire("k", timeout=0.1)
    current.release()


@pytest.mark.services
def test_separate_limiters_share_the_slot_through_redis(redis_url: str) -> None:
    first, second = RedisLimiter(redis_url), RedisLimiter(redis_url)
    with first.acquire("shared", timeout=1), pytest.raises(NinoxLimiterTimeout):
        second.acquire("shared", timeout=0.1)


def test_an_unreachable_redis_is_a_limiter_timeout_without_the_url() -> None:
    url = f"redis://:s3cret-password@127.0.0.1:{free_port()}/0"
    limiter = RedisLimiter(url)
    with pytest.raises(NinoxLimiterTimeout) as raised:
        limiter.acquire("k", timeout=0.5)
    assert "unavailable" in str(raised.value)
    assert "s3cret" not in str(raised.value)
    assert "s3cret" not in repr(limiter)


@pytest.mark.services
def test_a_client_call_holds_a_slot_named_by_the_key_hash_never_the_key(
    connection: redis.Redis, redis_url: str
) -> None:
    token = "token-that-must-not-reach-redis"
    seen: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["keys"] = key_names(connection)
        return httpx.Response(200, json=[{"id": "t", "name": "Team"}])

    limiter = RedisLimiter(redis_url)
    transport = httpx.MockTransport(handler)
    client = NinoxClient(
        token=token, base_url="http://ninox.test/v1", transport=transport, limiter=limiter
    )
    assert [team.id for team in client.teams()] == ["t"]
    assert seen["keys"] == [f"ninox-limiter:{limiter_key(token)}"]
    assert limiter.holders(limiter_key(token)) == 0
    assert not any(token in key for key in key_names(connection))


@pytest.mark.services
def test_threads_of_one_process_never_overlap(redis_url: str) -> None:
    limiter = RedisLimiter(redis_url, limit=1)
    state = {"in_flight": 0, "max": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            take_turns()
        except BaseException as exc:  # a thread's error must fail the test, not vanish
            errors.append(exc)

    def take_turns() -> None:
        for _ in range(10):
            with limiter.acquire("threads", timeout=60):  # bounds a hang only
                with lock:
                    state["in_flight"] += 1
                    state["max"] = max(state["max"], state["in_flight"])
                time.sleep(0.001)
                with lock:
                    state["in_flight"] -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert state["max"] == 1
