"""Budgets for many lodges at once, in one query (the lodge list, the dashboard, reports).

The same arithmetic as ``grants.budget`` for one lodge, as SQL subqueries:
used = Ninox grants in the FY not Cancelled + portal approvals Ninox does not have yet
(each counting what a known refund left of it).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from grants.budget import with_refunds_counted
from grants.models import RESERVING, Application, Lodge, NinoxGrant

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=12, decimal_places=2))


def _sum_subquery(queryset: QuerySet, field: str) -> Coalesce:
    total = queryset.order_by().values("lodge_id").annotate(total=Sum(field)).values("total")[:1]
    return Coalesce(
        Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2)), ZERO
    )


def used_in_ninox_expression(fiscal_year: int) -> Coalesce:
    grants = NinoxGrant.objects.filter(lodge_id=OuterRef("pk"), fiscal_year=fiscal_year).exclude(
        status=NinoxGrant.CANCELLED
    )
    return _sum_subquery(with_refunds_counted(grants), "counted")


def pending_in_portal_expression(fiscal_year: int) -> Coalesce:
    # NOT EXISTS on the indexed reference: a NOT IN list would be rebuilt for every lodge.
    in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference"))
    pending = Application.objects.filter(
        lodge_id=OuterRef("pk"), fiscal_year=fiscal_year, status__in=RESERVING
    ).filter(~Exists(in_ninox))
    return _sum_subquery(pending.annotate(kept=F("amount_requested") - F("match_released")), "kept")


def lodges_with_budget(fiscal_year: int, cap: Decimal) -> QuerySet[Lodge]:
    """Lodges annotated with ``used_ninox``, ``pending_portal``, ``used``, ``remaining``."""
    cap_value = Value(cap, output_field=DecimalField(max_digits=12, decimal_places=2))
    return (
        Lodge.objects.annotate(
            used_ninox=used_in_ninox_expression(fiscal_year),
            pending_portal=pending_in_portal_expression(fiscal_year),
        )
        .annotate(used=Coalesce("used_ninox", ZERO) + Coalesce("pending_portal", ZERO))
        .annotate(
            remaining=cap_value - Coalesce("used_ninox", ZERO) - Coalesce("pending_portal", ZERO)
        )
    )
