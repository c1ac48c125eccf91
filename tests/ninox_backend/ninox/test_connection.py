"""The portal's choice of limiter for its client (no server needed): Redis when
``REDIS_URL`` is set, file locks in the data directory otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from ninox_backend import FileLockLimiter
from ninox_backend.limiter import RedisLimiter
from ninox_backend.ninox.connection import build_client


@pytest.mark.services
def test_the_portal_uses_redis_when_redis_url_is_set(settings: Any) -> None:
    settings.REDIS_URL = "redis://:pw@127.0.0.1:6399/0"
    settings.NINOX_PARALLEL_CALLS = 2
    settings.NINOX_LIMITER_LEASE_SECONDS = 30
    client = build_client(token="k")
    assert isinstance(client.limiter, RedisLimiter)
    assert (client.limiter.limit, client.limiter.lease) == (2, 30.0)
    client.close()


def test_the_portal_uses_file_locks_in_the_data_dir_without_redis(settings: Any) -> None:
    settings.REDIS_URL = None
    client = build_client(token="k")
    assert isinstance(client.limiter, FileLockLimiter)
    assert client.limiter.directory == settings.PORTAL_DATA_DIR / "locks"
    assert client.limiter.limit == settings.NINOX_PARALLEL_CALLS
    client.close()


def test_the_lease_defaults_to_a_minute(settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6399/0"
    if hasattr(settings, "NINOX_LIMITER_LEASE_SECONDS"):
        del settings.NINOX_LIMITER_LEASE_SECONDS
    client = build_client(token="k")
    assert isinstance(client.limiter, RedisLimiter)
    assert client.limiter.lease == 60.0
    client.close()
