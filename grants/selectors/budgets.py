"""The budget arithmetic, stated once (reads only): how much of a lodge's cap is used in a FY.

used      = Ninox grants in the FY, not Cancelled (from the mirror)
          + portal approvals in the FY that Ninox does not have yet (by reference)
remaining = cap - used

A refund the portal knows of counts at once: an approval counts its match that stays, and a
Ninox row of a refunded grant counts at most that (until its own write-back says so too).
A refund Stripe took back (it failed after it succeeded) counts at once too: until its Ninox
write lands, the grant's row counts the portal's match that stays, even if Ninox says Cancelled.

The rule is the two subqueries below, ``used_in_ninox_expression`` and
``pending_in_portal_expression``. Every reader goes through them: ``lodges_with_budget``
annotates many lodges in one query (the lodge list, the dashboard, reports), and
``lodge_budget`` is the same queryset narrowed to one lodge (the decisions).
"""

from __future__ import annotations

import functools
import threading
from decimal import Decimal
from typing import Any

from django.db import connections, router
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from grants.budget_rule import Budget
from grants.models import RESERVING, Application, Lodge, NinoxGrant, OutboxMessage
from grants.money import CENT, ZERO

# In the outbox key of the Ninox write that follows a refund Stripe took back.
TAKEN_BACK = ":taken-back-"


def _money(amount: Decimal) -> Value:
    return Value(amount, output_field=DecimalField(max_digits=12, decimal_places=2))


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    total = queryset.order_by().values("lodge_id").annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(
        Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2)), _money(ZERO)
    )


def _take_back_on_its_way(application: OuterRef) -> Exists:
    """A refund Stripe took back whose Ninox write has not landed (pending, or failed for good)."""
    return Exists(
        OutboxMessage.objects.filter(
            application=application,
            kind=OutboxMessage.Kind.NINOX_REFUND,
            dedupe_key__contains=TAKEN_BACK,
        ).exclude(status=OutboxMessage.Status.DONE)
    )


def with_refunds_counted(grants: QuerySet[NinoxGrant]) -> QuerySet[NinoxGrant]:
    """Ninox rows annotated with ``counted``: the amount, or less when a refund released part;
    or the portal's match that stays while a refund Stripe took back is on its way to Ninox
    (``behind``: Ninox's row then says too little, or Cancelled)."""
    portal = Application.objects.filter(reference=OuterRef("reference"))
    taken_back = portal.filter(_take_back_on_its_way(OuterRef("pk")))
    refunded = portal.filter(Q(match_released__gt=0) | Q(_take_back_on_its_way(OuterRef("pk"))))
    kept = Subquery(
        refunded.annotate(kept=F("amount_requested") - F("match_released")).values("kept")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )
    return grants.annotate(kept=kept, behind=Exists(taken_back)).annotate(
        counted=Case(
            When(behind=True, kept__isnull=False, then=F("kept")),
            When(kept__isnull=False, amount__gt=F("kept"), then=F("kept")),
            default=F("amount"),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def used_in_ninox_expression(fiscal_year: int, *, count_refunds: bool = False) -> Coalesce:
    """Ninox grants of the lodge (``OuterRef("pk")``) in the FY, not Cancelled.

    ``count_refunds`` (the budget): a grant the portal knows was partly or wholly refunded
    counts at most its match that stays, before its own write-back reaches Ninox; one whose
    refund Stripe took back counts the match that stays again, Cancelled in Ninox or not,
    until its write-back lands. Without it (the drift check), the mirror's rows as Ninox
    holds them.
    """
    grants = NinoxGrant.objects.filter(lodge_id=OuterRef("pk"), fiscal_year=fiscal_year)
    if not count_refunds:
        return _sum_subquery(grants.exclude(status=NinoxGrant.CANCELLED), "amount")
    counted = with_refunds_counted(grants).filter(~Q(status=NinoxGrant.CANCELLED) | Q(behind=True))
    return _sum_subquery(counted, "counted")


def pending_in_portal_expression(fiscal_year: int, *, exclude_id: int | None = None) -> Coalesce:
    """Approvals not yet seen in Ninox (any Ninox row with the reference counts as seen).

    ``exclude_id`` leaves one application out (the one being decided).
    """
    # NOT EXISTS on the indexed reference: a NOT IN list would be rebuilt for every lodge.
    in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference"))
    pending = Application.objects.filter(
        lodge_id=OuterRef("pk"), fiscal_year=fiscal_year, status__in=RESERVING
    ).filter(~Exists(in_ninox))
    if exclude_id is not None:
        pending = pending.exclude(id=exclude_id)
    # Each counts its match that stays (less what a refund released).
    pending = pending.annotate(kept=F("amount_requested") - F("match_released"))
    return _sum_subquery(pending, "kept")


def lodges_with_budget(
    fiscal_year: int, cap: Decimal, *, exclude_id: int | None = None
) -> QuerySet[Lodge]:
    """Lodges annotated with ``used_ninox``, ``pending_portal``, ``used``, ``remaining``."""
    return (
        Lodge.objects.annotate(
            used_ninox=used_in_ninox_expression(fiscal_year, count_refunds=True),
            pending_portal=pending_in_portal_expression(fiscal_year, exclude_id=exclude_id),
        )
        # Each subquery is already coalesced to 0.00; used and remaining as `Budget` says.
        .annotate(used=F("used_ninox") + F("pending_portal"))
        .annotate(remaining=_money(cap) - F("used"))
    )


def lodge_budget(
    lodge_id: int, fiscal_year: int, cap: Decimal, *, exclude_id: int | None = None
) -> Budget:
    """One lodge's budget (one query); a lodge id that names no lodge has used nothing.

    The query is ``lodges_with_budget`` narrowed to the lodge, compiled once per fiscal
    year, cap and database and then run with the lodge's ids: building and compiling its
    subqueries cost a decision some 10 ms of CPU, more than running it (see
    ``_one_lodge_sql``). Quantized to cents here: SQLite's SUM is a float.
    """
    alias = router.db_for_read(Lodge)
    with _COMPILING:  # threads deciding together compile a new year's query once, not each
        sql, params = _one_lodge_sql(alias, fiscal_year, cap, exclude_id is not None)
    bound = [_bind(p, lodge_id, exclude_id) for p in params]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, bound)
        figures = cursor.fetchone()
    if figures is None:
        return Budget(cap=cap, used_ninox=ZERO, pending_portal=ZERO)
    used_ninox, pending_portal = (Decimal(str(value)).quantize(CENT) for value in figures)
    return Budget(cap=cap, used_ninox=used_ninox, pending_portal=pending_portal)


# Stand-ins compiled into the one-lodge query, replaced by the real ids on each run: no
# primary key is negative, so neither can be mistaken for another parameter.
_LODGE_ID = -7_000_000_001
_EXCLUDED_ID = -7_000_000_002


def _bind(param: Any, lodge_id: int, exclude_id: int | None) -> Any:
    if type(param) is int and param == _LODGE_ID:
        return lodge_id
    if type(param) is int and param == _EXCLUDED_ID:
        return exclude_id
    return param


_COMPILING = threading.Lock()


@functools.lru_cache(maxsize=64)
def _one_lodge_sql(
    alias: str, fiscal_year: int, cap: Decimal, excluding: bool
) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of one lodge's row of ``lodges_with_budget``, with stand-ins
    for the lodge's id and the excluded application's."""
    query = (
        lodges_with_budget(fiscal_year, cap, exclude_id=_EXCLUDED_ID if excluding else None)
        .filter(pk=_LODGE_ID)
        .values_list("used_ninox", "pending_portal")  # type: ignore[misc]  # annotations
        .order_by()
        .query
    )
    sql, params = query.get_compiler(alias).as_sql()
    expected = {_LODGE_ID: 1, _EXCLUDED_ID: 1 if excluding else 0}
    for stand_in, count in expected.items():
        found = sum(1 for p in params if type(p) is int and p == stand_in)
        if found != count:  # the ORM compiled the query differently: never guess which is which
            raise RuntimeError(f"the one-lodge budget query has {found} of stand-in {stand_in}")
    return sql, tuple(params)


def used_in_ninox(lodge_id: int, fiscal_year: int) -> Decimal:
    """The mirror's sum of the lodge's Ninox grants in the FY (the drift check compares it)."""
    used = (
        Lodge.objects.filter(pk=lodge_id)
        .annotate(used_ninox=used_in_ninox_expression(fiscal_year))
        .values_list("used_ninox", flat=True)
        .first()
    )
    return ZERO if used is None else used.quantize(CENT)
