"""Budget arithmetic (reads only): how much of a lodge's cap is used in a fiscal year.

used      = Ninox grants in the FY, not Cancelled (from the mirror)
          + portal approvals in the FY that Ninox does not have yet (by reference)
remaining = cap - used

A refund the portal knows of counts at once: an approval counts its match that stays, and a
Ninox row of a refunded grant counts at most that (until its own write-back says so too).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, DecimalField, Exists, F, OuterRef, QuerySet, Subquery, Sum, When

from grants.models import RESERVING, Application, NinoxGrant
from grants.money import ZERO


@dataclass(frozen=True)
class Budget:
    cap: Decimal
    used_ninox: Decimal
    pending_portal: Decimal

    @property
    def used(self) -> Decimal:
        return self.used_ninox + self.pending_portal

    @property
    def remaining(self) -> Decimal:
        return self.cap - self.used


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


def used_in_ninox(lodge_id: int, fiscal_year: int) -> Decimal:
    grants = NinoxGrant.objects.filter(lodge_id=lodge_id, fiscal_year=fiscal_year).exclude(
        status=NinoxGrant.CANCELLED
    )
    total = with_refunds_counted(grants).aggregate(total=Sum("counted"))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def pending_in_portal(lodge_id: int, fiscal_year: int, *, exclude_id: int | None = None) -> Decimal:
    """Approvals not yet seen in Ninox (any Ninox row with the reference counts as seen)."""
    in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference"))
    pending = Application.objects.filter(
        lodge_id=lodge_id, fiscal_year=fiscal_year, status__in=RESERVING
    ).filter(~Exists(in_ninox))
    if exclude_id is not None:
        pending = pending.exclude(id=exclude_id)
    total = pending.aggregate(total=Sum(F("amount_requested") - F("match_released")))["total"]
    return (total or ZERO).quantize(Decimal("0.01"))


def lodge_budget(
    lodge_id: int, fiscal_year: int, cap: Decimal, *, exclude_id: int | None = None
) -> Budget:
    return Budget(
        cap=cap,
        used_ninox=used_in_ninox(lodge_id, fiscal_year),
        pending_portal=pending_in_portal(lodge_id, fiscal_year, exclude_id=exclude_id),
    )
