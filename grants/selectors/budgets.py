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

from decimal import Decimal

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
