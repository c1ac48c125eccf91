"""``budget_lock``: one budget decision at a time per (lodge, fiscal year).

The intake and staff decisions both decide inside it, so two decisions for the same
lodge and year cannot both spend the same remaining budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from grants.models import Lodge, LodgeBudget


@contextmanager
def budget_lock(lodge: Lodge | None, fiscal_year: int) -> Iterator[LodgeBudget | None]:
    """A transaction holding the lock on the (lodge, fiscal year) row, which it yields.

    For ``lodge=None`` (a lodge the portal does not know) there is no budget to lock:
    the block still runs in one transaction and gets ``None``.
    """
    if lodge is None:
        with transaction.atomic():
            yield None
        return
    # The row is created before the transaction, so the lock is all the transaction waits for.
    LodgeBudget.objects.get_or_create(lodge=lodge, fiscal_year=fiscal_year)
    with transaction.atomic():
        yield LodgeBudget.objects.select_for_update().get(lodge=lodge, fiscal_year=fiscal_year)
