"""What the ``ninox_*`` commands share: the live schema, or a ``CommandError`` saying why not."""

from __future__ import annotations

from django.core.management.base import CommandError

from ninox_backend.exceptions import NinoxError
from ninox_backend.ninox import connection
from ninox_backend.schema import Schema


def live_schema() -> Schema:
    """The configured database's schema, read now (not the cached copy)."""
    try:
        return connection.database().schema(refresh=True)
    except NinoxError as exc:
        raise CommandError(
            f"Could not read the Ninox schema: {type(exc).__name__}: {exc}"
        ) from None
