"""URL converters: ids that fit a database integer, so a huge number is a 404, not a 500."""

from __future__ import annotations

from django.urls import register_converter


class DatabaseIdConverter:
    """A positive whole number of at most 18 digits (below 2**63, the largest BIGINT)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


# Registered on import: every urls module that uses <dbid:…> imports this module first.
register_converter(DatabaseIdConverter, "dbid")
