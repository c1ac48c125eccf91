"""``NinoxClient``: the entry point of the object graph (teams → databases → tables)."""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from .database import Database
from .limiter import Limiter
from .request import CallCounter, CallInfo, Requester, RetryPolicy
from .schema import Schema

__all__ = ["DEFAULT_BASE_URL", "DatabaseInfo", "NinoxClient", "Team"]

DEFAULT_BASE_URL = "https://api.ninox.com/v1"


@dataclass(frozen=True)
class Team:
    """A Ninox team (workspace)."""

    id: str
    name: str


@dataclass(frozen=True)
class DatabaseInfo:
    """A database as listed in a team."""

    id: str
    name: str


class NinoxClient:
    """A client for the Ninox REST API.

    >>> client = NinoxClient(token="...", base_url="https://api.ninox.com/v1")
    >>> grants = client.database("team", "db").table("Grants").all()

    ``token`` defaults to ``$NINOX_API_KEY``. ``transport`` is an httpx
    transport (the emulator's, or ``httpx.MockTransport`` in tests).
    ``limiter`` defaults to one call in flight per API key in this process.
    ``on_call`` receives a :class:`CallInfo` after every call. ``sleep`` and
    ``clock`` are injectable so tests never wait.
    """

    def __init__(
        self,
        token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 3,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        limiter: Limiter | None = None,
        limiter_timeout: float | None = 60.0,
        on_call: Callable[[CallInfo], None] | None = None,
        schema_max_age: float = 3600.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        token = token if token is not None else os.environ.get("NINOX_API_KEY", "")
        self.now: Callable[[], dt.datetime] = now or (lambda: dt.datetime.now(dt.UTC))
        self.schema_max_age = schema_max_age
        self._requester = Requester(
            token=token,
            base_url=base_url,
            timeout=timeout,
            retry=retry or RetryPolicy(max_retries=max_retries),
            limiter=limiter,
            limiter_timeout=limiter_timeout,
            transport=transport,
            on_call=on_call,
            sleep=sleep,
            clock=clock,
            wall_clock=self.now,
            rng=rng,
        )
        # Schemas are cached per database and shared by every Database handle of this client.
        self._schemas: dict[tuple[str, str], Schema] = {}
        self._schema_lock = threading.Lock()
        self._unknown_field_marks: dict[tuple[str, str], tuple[Any, Any]] = {}

    @property
    def base_url(self) -> str:
        return self._requester.base_url

    @property
    def retry(self) -> RetryPolicy:
        return self._requester.retry

    @property
    def limiter(self) -> Limiter:
        return self._requester.limiter

    def __repr__(self) -> str:
        return f"NinoxClient(base_url={self.base_url!r}, token='***')"

    def __enter__(self) -> NinoxClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._requester.close()

    def request(self, method: str, template: str, **kwargs: Any) -> Any:
        """Send one raw call through the request path (see :meth:`Requester.request`)."""
        return self._requester.request(method, template, **kwargs)

    def counting(self) -> AbstractContextManager[CallCounter]:
        """``with client.counting() as c:`` counts HTTP requests sent in the block (``c.calls``)."""
        return self._requester.counting()

    # ---- teams and databases ----------------------------------------------------------

    def teams(self) -> list[Team]:
        """``GET /teams``."""
        data = self.request("GET", "/teams") or []
        return [Team(str(t["id"]), str(t.get("name", ""))) for t in data]

    def team(self, team_id: str) -> Team:
        """``GET /teams/{team}``."""
        data = self.request("GET", "/teams/{team}", path_params={"team": team_id})
        return Team(str(data["id"]), str(data.get("name", "")))

    def databases(self, team_id: str) -> list[DatabaseInfo]:
        """``GET /teams/{team}/databases``."""
        data = self.request("GET", "/teams/{team}/databases", path_params={"team": team_id}) or []
        return [DatabaseInfo(str(d["id"]), str(d.get("name", ""))) for d in data]

    def database(self, team_id: str, database_id: str) -> Database:
        """A handle on one database (no call is made until you use it)."""
        return Database(self, team_id, database_id)

    # ---- schema cache (used by Database) ------------------------------------------------

    def _cached_schema(self, key: tuple[str, str]) -> Schema | None:
        with self._schema_lock:
            return self._schemas.get(key)

    def _store_schema(self, key: tuple[str, str], schema: Schema | None) -> None:
        with self._schema_lock:
            if schema is None:
                self._schemas.pop(key, None)
            else:
                self._schemas[key] = schema
