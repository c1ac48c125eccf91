"""Ninox records whose budget fields could not be read: kept aside, shown, never counted as $0."""

from __future__ import annotations


def quarantine_doubts(lodge_id: int | None) -> list[str]:
    """Reasons from quarantined Ninox records that touch this lodge's budget (to be built)."""
    return []
