"""The drift check: the mirror's FY totals against Ninox's own ``sum(...)``."""

from __future__ import annotations


def drift_doubts(lodge_id: int | None) -> list[str]:
    """Reasons from an unresolved drift finding for this lodge (to be built)."""
    return []
