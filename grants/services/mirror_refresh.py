"""Bringing the Ninox mirror up to date before a decision (one call, never under a lock).

Whatever goes wrong while reading Ninox or storing what came back, the application is
still received: ``mirror_refresh`` never raises, it says the mirror is not fresh and
why, and the decision goes to a person with that reason.

Decisions arriving together share one refresh that started after each of them
arrived (``grants.services.refresh_flight``), so a burst of fifty applications costs
Ninox a couple of calls, not fifty. ``NINOX_COALESCE_REFRESH = False`` turns that off.

Each read is narrowed to the lodge (``sync_mirror(where=…)``): the workspace API, which
has no incremental read, then reads the lodge's grants in one call (every fiscal year;
the budget keeps the year's client-side), and only decisions for the same lodge share a
refresh; the classic API reads ``records?sinceSq=`` as before and ignores ``where``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from django.conf import settings

from grants.models import Lodge
from grants.services.refresh_flight import (
    FileFlightStore,
    FlightStore,
    FlightTimeout,
    RedisFlightStore,
    RefreshFlight,
    Ticket,
    flight_name,
)
from ninox_backend.exceptions import NinoxError, NinoxLookupUnreliable
from ninox_backend.ninox.connection import is_workspace
from ninox_backend.ninox.mirror import sync_mirror

logger = logging.getLogger("grants")

NINOX_UNREACHABLE = "Ninox unreachable: the budget could not be confirmed"
# Ninox answered, but not in a way that confirms the lodge's grants (on the workspace API:
# a filtered read with records of another lodge, or lacking grants the portal holds).
NINOX_UNCONFIRMED = (
    "Ninox answered, but a filtered read could not be confirmed (a record with other values, "
    "or records the portal holds missing until the next full read of Ninox): the budget "
    "could not be confirmed"
)
REFRESH_FAILED = (
    "the Ninox mirror could not be refreshed ({error}; logged for staff): "
    "the budget could not be confirmed"
)


@dataclass(frozen=True)
class Freshness:
    fresh: bool
    problem: str = ""  # why not, in words a reviewer (and the lodge) may read


def arrival() -> Ticket | None:
    """The moment an application arrives, as the shared refresh counts it.

    Taken when the request arrives (the apply form's and the API's POST), before the
    form is read: any refresh that starts from then on, for whichever lodge or tables,
    sees everything the application's own refresh would. Applications arriving together
    then share the first refresh, not only those that reached it before it started.
    ``None`` (take the ticket at the refresh) when coalescing is off or the shared state
    cannot be read.
    """
    if not settings.NINOX_COALESCE_REFRESH:
        return None
    try:
        return refresh_flight(("grants",)).arrive()
    except Exception:
        logger.exception("Reading the shared refresh counter on arrival failed")
        return None


def mirror_refresh(*, lodge_number: int | None = None, arrived: Ticket | None = None) -> Freshness:
    """Sync the Grants mirror (and Lodges when ``lodge_number`` is not mirrored yet).

    With coalescing on (the default) the sync is one that started after the application
    arrived (``arrived``, from ``arrival()``; else after this call began): already
    running for others, or run here. Never raises: any failure, a Ninox error or not,
    is logged with its traceback and returned as ``Freshness(False, reason)``. The
    caller looks the lodge up again after.
    """
    tables: tuple[str, ...] = ("grants",)
    try:
        known = _lodge_ninox_id(lodge_number)
        if lodge_number is not None and known is None:
            tables = ("lodges", "grants")  # lodges first, so new grants find their lodge
    except Exception as exc:
        logger.exception("Looking up lodge %s before a decision failed", lodge_number)
        return Freshness(False, REFRESH_FAILED.format(error=type(exc).__name__))
    if not settings.NINOX_COALESCE_REFRESH:
        return _refresh(tables, lodge_number, known)
    ours: list[Freshness] = []

    def run() -> dict[str, Any]:
        ours.append(_refresh(tables, lodge_number, known))
        return asdict(ours[0])

    try:
        # A scoped read serves one lodge: on the workspace API only its decisions share it.
        scope = (f"lodge {lodge_number}",) if is_workspace() and lodge_number is not None else ()
        flight = refresh_flight(tables, *scope)
        landing = flight.wait(arrived or flight.arrive(), run)
    except FlightTimeout as exc:
        logger.warning("No refresh of %s before a decision: %s", "+".join(tables), exc)
        return Freshness(False, NINOX_UNREACHABLE)
    except Exception:
        # The shared state (Redis, the data dir) failed us, not Ninox: refresh alone.
        logger.exception("The shared refresh of %s failed; refreshing alone", "+".join(tables))
        return ours[0] if ours else _refresh(tables, lodge_number, known)
    return Freshness(**landing.result)


def _refresh(
    tables: tuple[str, ...], lodge_number: int | None = None, lodge_id: int | None = None
) -> Freshness:
    """``lodge_id``: the lodge's Ninox id as the mirror had it (read again after Lodges)."""
    try:
        if "lodges" in tables:
            where = {"lodges": {"number": lodge_number}} if lodge_number is not None else None
            sync_mirror(tables=["lodges"], where=where)
            lodge_id = _lodge_ninox_id(lodge_number)
        sync_mirror(
            tables=["grants"],
            where={"grants": {"lodge": lodge_id}} if lodge_id is not None else None,
        )
    except NinoxLookupUnreliable as exc:
        logger.warning("Ninox's answer before a decision was not confirmed: %s", exc)
        return Freshness(False, NINOX_UNCONFIRMED)
    except NinoxError as exc:
        logger.warning(
            "Ninox sync of %s before a decision failed: %s", "+".join(tables), exc, exc_info=True
        )
        return Freshness(False, NINOX_UNREACHABLE)
    except Exception as exc:
        # Not Ninox's refusal but our own failure (a value we could not store, a database
        # error): the application is still received and decided by a person.
        logger.exception("Refreshing the Ninox mirror (%s) before a decision failed", tables)
        return Freshness(False, REFRESH_FAILED.format(error=type(exc).__name__))
    return Freshness(True)


def _lodge_ninox_id(lodge_number: int | None) -> int | None:
    """The lodge's Ninox record id, from the mirror (None when it is not mirrored)."""
    if lodge_number is None:
        return None
    found = Lodge.objects.filter(number=lodge_number).values_list("ninox_id", flat=True).first()
    return int(found) if found is not None else None


def refresh_flight(tables: tuple[str, ...], *scope: str) -> RefreshFlight:
    """The shared refresh of ``tables`` for the configured Ninox database.

    Its state lives in Redis when ``REDIS_URL`` is set (every machine), else in the data
    dir (this machine). Waiting is bounded by what one refresh may take in the worst
    case, twice: the one running at arrival, then ours.
    """
    database = (settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID)
    name = flight_name(*database, "+".join(tables), *scope)
    counter = flight_name(*database)  # one counter for every flight of the database
    one_refresh = settings.NINOX_LIMITER_TIMEOUT_SECONDS + settings.NINOX_TIMEOUT_SECONDS
    store: FlightStore
    if getattr(settings, "REDIS_URL", None):
        store = RedisFlightStore(
            _redis(settings.REDIS_URL),
            name,
            lease=settings.NINOX_LIMITER_LEASE_SECONDS,
            counter=counter,
        )
    else:
        store = FileFlightStore(settings.PORTAL_DATA_DIR / "locks", name, counter=counter)
    return RefreshFlight(store, timeout=2 * one_refresh)


@cache
def _redis(url: str) -> Any:
    """One connection pool per process for the shared refresh's state."""
    import redis

    return redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
