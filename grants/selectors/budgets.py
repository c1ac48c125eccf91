"""The budget arithmetic, stated once (reads only): how much of a lodge's cap is used in a FY.

used      = Ninox grants in the FY, not Cancelled (from the mirror)
          + portal approvals in the FY that Ninox does not have yet (by reference)
remaining = cap - used

A refund the portal knows of counts at once: an approval counts its match that stays, and a
Ninox row of a refunded grant counts at most that (until its own write-back says so too).

The rule is the two subqueries below, ``used_in_ninox_expression`` and
``pending_in_portal_expression``. Every reader goes through them: ``lodges_with_budget``
annotates many lodges in one query (the lodge list, the dashboard, reports), and
``lodge_budget`` is the same queryset narrowed to one lodge (the decisions).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from grants.budget_rule import Budget
from grants.models import RESERVING, Application, Lodge, NinoxGrant
from grants.money import CENT, ZERO


def _money(amount: Decimal) -> Value:
    return Value(amount, output_field=DecimalField(max_digits=12, decimal_places=2))


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    total = queryset.order_by().values("lodge_id").annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(
        Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2)), _money(ZERO)
    )


def with_refunds_counted(grants: QuerySet[NinoxGrant]) -> QuerySet[NinoxGrant]:
    """Ninox rows annotated with ``counted``: the amount, or less when a refund released part."""
    refunded = Application.objects.filter(reference=OuterRef("reference"), match_released__gt=0)
    kept = Subquery(
        refunded.annotate(kept=F("amount_requested") - F("match_released")).values("kept")[:1],
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )
    return grants.annotate(kept=kept).annotate(
        counted=Case(
            When(kept__isnull=False, amount__gt=F("kept"), then=F("kept")),
            default=F("amount"),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def used_in_ninox_expression(fiscal_year: int, *, count_refunds: bool = False) -> Coalesce:
    """Ninox grants of the lodge (``OuterRef("pk")``) in the FY, not Cancelled.

    ``count_refunds`` (the budget): a grant the portal knows was partly or wholly refunded
    counts at most its match that stays, before its own write-back reaches Ninox. Without it
    (the drift check), the mirror's rows as Ninox holds them.
    """
    grants = NinoxGrant.objects.filter(lodge_id=OuterRef("pk"), fiscal_year=fiscal_year).exclude(
        status=NinoxGrant.CANCELLED
    )
    if not count_refunds:
        return _sum_subquery(grants, "amount")
    return _sum_subquery(with_refunds_counted(grants), "counted")


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

    Quantized to cents here: SQLite's SUM is a float, which the list's annotations keep.
    """
    figures = (
        lodges_with_budget(fiscal_year, cap, exclude_id=exclude_id)
        .filter(pk=lodge_id)
        .values("used_ninox", "pending_portal")  # type: ignore[misc]  # annotations
        .first()
    )
    if figures is None:
        return Budget(cap=cap, used_ninox=ZERO, pending_portal=ZERO)
    return Budget(
        cap=cap,
        used_ninox=figures["used_ninox"].quantize(CENT),
        pending_portal=figures["pending_portal"].quantize(CENT),
    )


def used_in_ninox(lodge_id: int, fiscal_year: int) -> Decimal:
    """The mirror's sum of the lodge's Ninox grants in the FY (the drift check compares it)."""
    used = (
        Lodge.objects.filter(pk=lodge_id)
        .annotate(used_ninox=used_in_ninox_expression(fiscal_year))
        .values_list("used_ninox", flat=True)
        .first()
    )
    return ZERO if used is None else used.quantize(CENT)
