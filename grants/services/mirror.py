"""Bringing the Ninox mirror up to date before a decision (one call, never under a lock)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ninox_backend.exceptions import NinoxError
from ninox_backend.mirror import sync_mirror

logger = logging.getLogger("grants")


@dataclass(frozen=True)
class Freshness:
    fresh: bool
    problem: str = ""


def mirror_refresh() -> Freshness:
    """Sync the mirror; on any Ninox failure say why instead of raising."""
    try:
        sync_mirror()
    except NinoxError as exc:
        logger.warning("Ninox sync before a decision failed: %s", type(exc).__name__)
        return Freshness(False, f"{type(exc).__name__}: {exc}")
    return Freshness(True)
