"""Public references for applications: ``MG-2026-00042`` (year of submission, then a counter)."""

from __future__ import annotations

from django.db import connection

from grants.models import NinoxGrant, ReferenceCounter

PREFIX = "MG"


def _highest_in_ninox(year: int) -> int:
    """The highest counter already used in Ninox for ``year`` (grants the portal wrote earlier)."""
    prefix = f"{PREFIX}-{year}-"
    numbers = [
        int(ref[len(prefix) :])
        for ref in NinoxGrant.objects.filter(reference__startswith=prefix).values_list(
            "reference", flat=True
        )
        if ref[len(prefix) :].isascii() and ref[len(prefix) :].isdigit() and len(ref) < 40
    ]
    return max(numbers, default=0)


def _take_number(year: int) -> int | None:
    """Add one to the year's counter and return it, in one statement (None: no counter yet).

    ``UPDATE … RETURNING`` (PostgreSQL, and SQLite since 3.35) holds the counter's row
    only for that statement when called outside a transaction, so applications decided
    at the same time do not queue behind each other's whole decision for a number.
    """
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)  # ours, not input
    sql = f"UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def next_reference(year: int) -> str:
    """The next unused reference for ``year``.

    Called before the submitting transaction (``application_submit`` does): a number is
    taken for good, so an application that then fails leaves a gap in the year's
    references, never a reference used twice.
    """
    while True:
        number = _take_number(year)
        if number is None:
            # The year's first application: the counter starts above Ninox's highest.
            ReferenceCounter.objects.get_or_create(
                year=year, defaults={"last": lambda: _highest_in_ninox(year)}
            )
            continue
        reference = f"{PREFIX}-{year}-{number:05d}"
        # A reference already in Ninox (a restored database, say) is skipped, never shared.
        if not NinoxGrant.objects.filter(reference=reference).exists():
            return reference
