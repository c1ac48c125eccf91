"""A fixed-window rate limit in the shared cache (Redis in production, files by default).

``allow`` counts an event and says whether it is within the limit. A limit on an
*outcome* (accepted applications, failed logins) checks first with ``exceeded`` and
counts with ``record`` once the outcome is known, so other outcomes do not use it up.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from portal.lib.http import client_ip


def _cache_key(key: str, window_seconds: int) -> str:
    window = int(time.time() // window_seconds)
    return f"ratelimit:{key}:{window}"


def record(key: str, *, window_seconds: int) -> int:
    """Count one event for ``key`` in this window; returns the window's count."""
    cache_key = _cache_key(key, window_seconds)
    if cache.add(cache_key, 1, timeout=window_seconds + 5):
        return 1
    try:
        return int(cache.incr(cache_key))
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window_seconds + 5)
        return 1


def exceeded(key: str, *, limit: int, window_seconds: int) -> bool:
    """True once ``limit`` events were recorded for ``key`` in this window (counts nothing)."""
    return int(cache.get(_cache_key(key, window_seconds), 0)) >= limit


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one event for ``key``; False once ``limit`` events happened in this window."""
    return record(key, window_seconds=window_seconds) <= limit


def seconds_left(window_seconds: int) -> int:
    """Seconds until the current window ends (for a ``Retry-After`` header)."""
    return window_seconds - int(time.time()) % window_seconds


def _api_auth_key(request: HttpRequest) -> str:
    return f"api-auth-failed:{client_ip(request)}"


def api_auth_blocked(request: HttpRequest) -> bool:
    """True when the request's address failed API authentication too often this hour.

    Checked before the token, so guessing tokens from one address stops; the per-token
    request limit is separate.
    """
    return exceeded(
        _api_auth_key(request),
        limit=settings.PORTAL_API_AUTH_FAILURES_PER_HOUR,
        window_seconds=3600,
    )


def api_auth_failed(request: HttpRequest) -> None:
    """Count one failed API authentication for the request's address."""
    record(_api_auth_key(request), window_seconds=3600)
