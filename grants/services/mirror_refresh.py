"""Bringing the Ninox mirror up to date before a decision (one call, never under a lock).

Whatever goes wrong while reading Ninox or storing what came back, the application is
still received: ``mirror_refresh`` never raises, it says the mirror is not fresh and
why, and the decision goes to a person with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from grants.models import Lodge
from ninox_backend.django.mirror import sync_mirror
from ninox_backend.exceptions import NinoxError

logger = logging.getLogger("grants")

NINOX_UNREACHABLE = "Ninox unreachable: the budget could not be confirmed"
REFRESH_FAILED = (
    "the Ninox mirror could not be refreshed ({error}; logged for staff): "
    "the budget could not be confirmed"
)


@dataclass(frozen=True)
class Freshness:
    fresh: bool
    problem: str = ""  # why not, in words a reviewer (and the lodge) may read


def mirror_refresh(*, lodge_number: int | None = None) -> Freshness:
    """Sync the Grants mirror (and Lodges when ``lodge_number`` is not mirrored yet).

    Each read is narrowed to the lodge (``where``): the workspace API, which has no
    incremental read, then reads the lodge's grants in one call (every fiscal year; the
    budget keeps the year's client-side); the classic API reads ``sinceSq`` as before.

    Never raises: any failure, a Ninox error or not, is logged with its traceback and
    returned as ``Freshness(False, reason)``. The caller looks the lodge up again after.
    """
    tables: tuple[str, ...] = ("grants",)
    try:
        lodge_id = _lodge_ninox_id(lodge_number)
        if lodge_number is not None and lodge_id is None:
            tables = ("lodges", "grants")  # lodges first, so new grants find their lodge
            sync_mirror(tables=["lodges"], where={"lodges": {"number": lodge_number}})
            lodge_id = _lodge_ninox_id(lodge_number)
        sync_mirror(
            tables=["grants"],
            where={"grants": {"lodge": lodge_id}} if lodge_id is not None else None,
        )
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
    if lodge_number is None:
        return None
    found = Lodge.objects.filter(number=lodge_number).values_list("ninox_id", flat=True).first()
    return int(found) if found is not None else None
