"""The process's connection to Ninox, configured from Django settings.

``NINOX_API`` chooses the API: ``classic`` (a :class:`NinoxClient` on
``NINOX_TEAM_ID``/``NINOX_DATABASE_ID``) or ``workspace`` (a
:class:`~ninox_backend.workspace.WorkspaceClient` on ``NINOX_WORKSPACE_ID``/``NINOX_MODULE``);
both answer the same interface (tables by name, typed records, verified lookups,
create/update). One client per process (its limiter is shared across processes through the
data dir, or Redis later), every call recorded in ``NinoxCall``. Tests swap in a
client on the in-process emulator with ``use_client``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from ..client import NinoxClient
from ..database import Database
from ..limiter import FileLockLimiter
from ..mapping import SchemaMapping
from ..request import CallInfo
from ..workspace import WorkspaceClient

logger = logging.getLogger("ninox_backend")

_lock = threading.Lock()
_client: NinoxClient | None = None
_override: NinoxClient | None = None


def record_call(info: CallInfo) -> None:
    """Store one call in the call log; a failure to store never fails the call."""
    from .models import NinoxCall

    try:
        NinoxCall.objects.create(
            at=timezone.now(),
            method=info.method,
            path_template=info.path_template[:200],
            status=info.status,
            duration_ms=int(info.duration * 1000),
            attempts=info.attempts,
            bytes_received=info.bytes_received,
            error=(info.error or "")[:200],
        )
    except DatabaseError:
        logger.warning("could not record a Ninox call in the call log", exc_info=True)


def build_client(
    *,
    transport: httpx.BaseTransport | None = None,
    base_url: str | None = None,
    token: str | None = None,
) -> NinoxClient:
    """A client configured from settings (base URL, key, timeout, cross-process limiter).

    The limiter is a Redis semaphore when ``REDIS_URL`` is set (shared across machines;
    a crashed holder frees its slot after ``NINOX_LIMITER_LEASE_SECONDS``), else file
    locks in the data dir (shared by the processes of this machine).
    """
    from ..limiter import Limiter, RedisLimiter

    limit = settings.NINOX_PARALLEL_CALLS
    limiter: Limiter
    if getattr(settings, "REDIS_URL", None):
        lease = float(getattr(settings, "NINOX_LIMITER_LEASE_SECONDS", 60))
        limiter = RedisLimiter(settings.REDIS_URL, limit=limit, lease=lease)
    else:
        limiter = FileLockLimiter(settings.PORTAL_DATA_DIR / "locks", limit=limit)
    kind = WorkspaceClient if is_workspace() else NinoxClient
    return kind(
        token=token or settings.NINOX_API_KEY,
        base_url=base_url or settings.NINOX_BASE_URL,
        timeout=float(settings.NINOX_TIMEOUT_SECONDS),
        transport=transport,
        limiter=limiter,
        limiter_timeout=float(settings.NINOX_LIMITER_TIMEOUT_SECONDS),
        on_call=record_call,
    )


def client() -> NinoxClient:
    """The process's client (created on first use)."""
    global _client
    if _override is not None:
        return _override
    with _lock:
        if _client is None:
            _client = build_client()
        return _client


def is_workspace() -> bool:
    """True when ``NINOX_API`` is ``workspace`` (Ninox's newer API)."""
    return getattr(settings, "NINOX_API", "classic") == "workspace"


def database() -> Database:
    """The configured Ninox database: ``NINOX_TEAM_ID`` / ``NINOX_DATABASE_ID`` on the
    classic API, ``NINOX_WORKSPACE_ID`` / ``NINOX_MODULE`` on the workspace API."""
    if is_workspace():
        return client().database(str(settings.NINOX_WORKSPACE_ID), str(settings.NINOX_MODULE))
    return client().database(settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID)


def probe() -> None:
    """One cheap call that proves the configured account answers (raises ``NinoxError``):
    the team on the classic API, the workspace's list of modules on the workspace API."""
    current = client()
    if isinstance(current, WorkspaceClient):
        current.modules(str(settings.NINOX_WORKSPACE_ID))
    else:
        current.team(settings.NINOX_TEAM_ID)


def mapping() -> SchemaMapping:
    return SchemaMapping(settings.NINOX_SCHEMA)


@contextmanager
def use_client(replacement: NinoxClient) -> Iterator[NinoxClient]:
    """Route this process's Ninox calls through ``replacement`` (tests, benchmarks)."""
    global _override
    previous, _override = _override, replacement
    try:
        yield replacement
    finally:
        _override = previous


def last_successful_call() -> datetime | None:
    """When the last call that got a 2xx reply ended, from the call log."""
    from .models import NinoxCall

    call = NinoxCall.objects.filter(status__gte=200, status__lt=300).order_by("-at").first()
    return call.at if call else None
