"""``budget_lock``: one budget decision at a time per (lodge, fiscal year).

The intake and staff decisions both decide inside it, so two decisions for the same
lodge and year cannot both spend the same remaining budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, router, transaction
from django.utils import timezone

from grants.models import Lodge, LodgeBudget


@contextmanager
def budget_lock(lodge: Lodge | None, fiscal_year: int) -> Iterator[None]:
    """A transaction holding the lock on the (lodge, fiscal year) row.

    The row is taken by one statement: an insert that, when the row exists, counts one
    more decision on it instead. Either way the row is written, so the transaction holds
    it (PostgreSQL's row lock; SQLite's write lock, taken at ``BEGIN IMMEDIATE``) until
    it ends, and a second decision for the lodge and year waits at that statement.

    For ``lodge=None`` (a lodge the portal does not know) there is no budget to lock:
    the block still runs in one transaction.
    """
    if lodge is None:
        with transaction.atomic():
            yield
        return
    with transaction.atomic():
        _take_row(lodge, fiscal_year)
        yield


def _take_row(lodge: Lodge, fiscal_year: int) -> None:
    alias = router.db_for_write(LodgeBudget)
    connection = connections[alias]
    table = connection.ops.quote_name(LodgeBudget._meta.db_table)  # ours, not input
    sql = (
        f"INSERT INTO {table} (lodge_id, fiscal_year, decisions, updated_at)"  # noqa: S608  # nosec B608
        " VALUES (%s, %s, 1, %s)"
        " ON CONFLICT (lodge_id, fiscal_year) DO UPDATE"
        f" SET decisions = {table}.decisions + 1, updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lodge.pk, fiscal_year, timezone.now()])
