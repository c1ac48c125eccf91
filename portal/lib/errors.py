"""The one error type for broken business rules, shown as a form error or JSON."""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """A business rule said no. ``errors`` maps field names to messages (may be empty)."""

    def __init__(
        self, message: str, errors: dict[str, list[str]] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.extra = extra
