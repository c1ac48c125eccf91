"""The programme's money figures, defined once: approved, paid, remaining, lodge share received.

A *grant* is a Ninox grant record, or a portal approval that Ninox does not have yet;
the two are matched by the application's reference, so a grant counts once. For each:

approved             = its match, unless cancelled: Ninox's amount where Ninox has the
                       reference (Ninox is the record), else the portal's approved match;
                       less what a refund released (as the budget counts it)
paid                 = approved, when its status is Paid: in the portal or in Ninox
lodge share received = what the portal took through Stripe, less what was refunded (the
                       lodge's own money; only where the portal took the payment)
remaining            = cap - approved, per lodge (exactly the budget the decisions use)

For a lodge, a district or the whole programme in a fiscal year: `fiscal_year_figures`.
The dashboard, the reports' headline, the FY summary and the ledger all read it (the
ledger classifies each of its rows with `application_amounts` / `ninox_amounts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from grants.fiscal_year import FiscalYear, long_date
from grants.models import RESERVING, Application, Lodge, NinoxGrant, Payment, Status
from grants.money import CENT, ZERO, format_money
from grants.rules import current_fiscal_year, rules_for_fiscal_year
from grants.selectors.budgets import lodge_budget, with_refunds_counted

NINOX_PAID = "Paid"
CHUNK = 2000


def _money_subquery(queryset: QuerySet, field_name: str, group: str) -> Subquery:
    total = queryset.order_by().values(group).annotate(total=Sum(field_name)).values("total")[:1]
    return Subquery(total, output_field=DecimalField(max_digits=12, decimal_places=2))


def with_grant_facts(applications: QuerySet[Application]) -> QuerySet[Application]:
    """``applications`` annotated with what Ninox and Stripe know of each (by reference):
    ``in_ninox``, ``ninox_amount`` (its records not cancelled, less what a refund released,
    as the budget counts them), ``ninox_paid`` and ``share_received`` (Stripe payments the
    portal took, before refunds)."""
    in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference"))
    # Not Cancelled; or Cancelled while a refund Stripe took back is on its way to Ninox.
    counted = with_refunds_counted(in_ninox).filter(
        ~Q(status=NinoxGrant.CANCELLED) | Q(behind=True)
    )
    paid = Payment.objects.filter(application=OuterRef("pk"), status=Payment.Status.PAID)
    return applications.annotate(
        in_ninox=Exists(in_ninox),
        ninox_amount=_money_subquery(counted, "counted", "reference"),
        ninox_paid=Exists(counted.filter(status=NINOX_PAID)),
        share_received=_money_subquery(paid, "amount", "application_id"),
    )


def application_amounts(
    *,
    status: str,
    amount_requested: Decimal,
    match_released: Decimal,
    in_ninox: bool,
    ninox_amount: Decimal | None,
    ninox_paid: bool,
) -> tuple[Decimal, Decimal]:
    """One application's (approved, paid) match, from `with_grant_facts`'s annotations."""
    if in_ninox:
        approved = _cents(ninox_amount)
        is_paid = ninox_paid or status == Status.PAID
    else:
        approved = amount_requested - match_released if status in RESERVING else ZERO
        is_paid = status == Status.PAID
    return approved, approved if is_paid else ZERO


def ninox_amounts(*, status: str, amount: Decimal) -> tuple[Decimal, Decimal]:
    """A grant only Ninox has (entered by hand): its (approved, paid) match."""
    approved = ZERO if status == NinoxGrant.CANCELLED else amount
    return approved, approved if status == NINOX_PAID else ZERO


def _cents(amount: Decimal | None) -> Decimal:
    # SQLite's SUM comes back as a float-derived Decimal: back to cents.
    return ZERO if amount is None else Decimal(amount).quantize(CENT)


def ninox_only(grants: QuerySet[NinoxGrant]) -> QuerySet[NinoxGrant]:
    """The Ninox grants that no portal application stands for."""
    return grants.exclude(reference__in=Application.objects.values("reference"))


@dataclass(frozen=True)
class GrantRow:
    """One grant's figures and where it belongs (lodge, district, month)."""

    lodge_id: int | None
    district: str
    approved: Decimal
    paid: Decimal
    share_received: Decimal | None  # None: the portal took no payment (a Ninox grant)
    grant_date: date | None
    paid_on: date | None
    counted: bool  # a grant approved (not cancelled, rejected...): it counts in "Grants"


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment else None


def grant_rows(
    applications: QuerySet[Application], grants: QuerySet[NinoxGrant]
) -> Iterator[GrantRow]:
    """Every grant's figures: the ``applications`` (each once), then the ``grants`` in Ninox
    that no application stands for. Streamed, a few queries whatever the size."""
    fields: tuple[str, ...] = (
        "lodge_id",
        "lodge__district",
        "status",
        "amount_requested",
        "match_released",
        "refunded_share",
        "in_ninox",
        "ninox_amount",
        "ninox_paid",
        "share_received",
        "grant_date",
        "paid_at",
    )
    rows = with_grant_facts(applications).values_list(*fields)
    for values in rows.iterator(chunk_size=CHUNK):
        lodge_id, district, status, requested, released, refunded = values[:6]
        in_ninox, ninox_amount, ninox_paid, share, grant_date, paid_at = values[6:]
        approved, paid = application_amounts(
            status=status,
            amount_requested=requested,
            match_released=released,
            in_ninox=in_ninox,
            ninox_amount=ninox_amount,
            ninox_paid=ninox_paid,
        )
        yield GrantRow(
            lodge_id=lodge_id,
            district=district or "",
            approved=approved,
            paid=paid,
            share_received=_cents(share) - refunded if share is not None else None,
            grant_date=grant_date,
            paid_on=(_local_date(paid_at) or grant_date) if paid else None,
            counted=bool(approved),
        )
    fields = ("lodge_id", "lodge__district", "status", "amount", "grant_date", "paid_at")
    for lodge_id, district, status, amount, grant_date, paid_at in (
        ninox_only(grants).values_list(*fields).iterator(chunk_size=CHUNK)
    ):
        approved, paid = ninox_amounts(status=status, amount=amount)
        yield GrantRow(
            lodge_id=lodge_id,
            district=district or "",
            approved=approved,
            paid=paid,
            share_received=None,
            grant_date=grant_date,
            paid_on=(_local_date(paid_at) or grant_date) if paid else None,
            counted=bool(approved),
        )


@dataclass
class Figures:
    """The figures of a lodge, a district or the programme in one fiscal year."""

    approved: Decimal = ZERO
    paid: Decimal = ZERO
    share_received: Decimal = ZERO
    grants: int = 0
    cap: Decimal = ZERO  # the caps of the lodges counted (each lodge's cap, added up)
    lodges: int = 0
    approved_in_lodges: Decimal = ZERO  # approved, less grants whose lodge the mirror lacks
    took_payment: bool = False  # the portal took a lodge share here (else: no such figure)

    @property
    def pending(self) -> Decimal:
        """Approved, not paid yet."""
        return self.approved - self.paid

    @property
    def remaining(self) -> Decimal:
        """What the lodges counted may still be granted (cap - approved)."""
        return self.cap - self.approved_in_lodges

    def add(self, row: GrantRow) -> None:
        self.approved += row.approved
        self.paid += row.paid
        if row.share_received is not None:
            self.share_received += row.share_received
            self.took_payment = True
        self.grants += 1 if row.counted else 0
        if row.lodge_id is not None:
            self.approved_in_lodges += row.approved


@dataclass
class FiscalYearFigures:
    """Per lodge (``None``: grants whose lodge the mirror lacks), per district, in all."""

    by_lodge: dict[int | None, Figures] = field(default_factory=dict)
    total: Figures = field(default_factory=Figures)


def figures_from_rows(rows: Iterable[GrantRow]) -> FiscalYearFigures:
    result = FiscalYearFigures()
    for row in rows:
        result.by_lodge.setdefault(row.lodge_id, Figures()).add(row)
        result.total.add(row)
    return result


def fiscal_year_grants(
    fiscal_year: int, *, lodge_id: int | None = None, district: str = ""
) -> tuple[QuerySet[Application], QuerySet[NinoxGrant]]:
    """The applications and Ninox grants of a FY (of one lodge, or one district)."""
    applications = Application.objects.filter(fiscal_year=fiscal_year)
    grants = NinoxGrant.objects.filter(fiscal_year=fiscal_year)
    if lodge_id is not None:
        applications = applications.filter(lodge_id=lodge_id)
        grants = grants.filter(lodge_id=lodge_id)
    if district:
        applications = applications.filter(lodge__district=district)
        grants = grants.filter(lodge__district=district)
    return applications, grants


def counted_lodges(fiscal_year: int, *, lodge_id: int | None = None, district: str = "") -> Q:
    """The lodges a cap is counted for: active ones, and any with a grant in the FY."""
    applied = Application.objects.filter(fiscal_year=fiscal_year).values("lodge_id")
    granted = NinoxGrant.objects.filter(fiscal_year=fiscal_year).values("lodge_id")
    scope = Q(active=True) | Q(id__in=applied) | Q(id__in=granted)
    if lodge_id is not None:
        scope &= Q(id=lodge_id)
    if district:
        scope &= Q(district=district)
    return scope


def fiscal_year_figures(
    fiscal_year: int, cap: Decimal, *, lodge_id: int | None = None, district: str = ""
) -> Figures:
    """The figures of one lodge, one district, or (neither named) the whole programme."""
    applications, grants = fiscal_year_grants(fiscal_year, lodge_id=lodge_id, district=district)
    figures = figures_from_rows(grant_rows(applications, grants)).total
    lodges = Lodge.objects.filter(
        counted_lodges(fiscal_year, lodge_id=lodge_id, district=district)
    ).count()
    if lodge_id is not None:
        lodges = 1  # a lodge has its cap whether active or not
    figures.lodges = lodges
    figures.cap = cap * lodges
    return figures


@dataclass(frozen=True)
class LodgeRemaining:
    """What a lodge may still be granted in the current fiscal year (the apply form, the API)."""

    remaining: Decimal
    cap: Decimal
    fy: FiscalYear
    next_cap: Decimal  # the next fiscal year's own cap (a change may already name it)

    @property
    def left(self) -> Decimal:
        """Never below zero (a lodge over a lowered cap has nothing left)."""
        return max(self.remaining, ZERO)

    @property
    def sentence(self) -> str:
        """ "$653.25 left in FY 2026-27 (until April 30, 2027)"."""
        return f"{format_money(self.left)} left in {self.fy.label} (until {long_date(self.fy.end)})"

    @property
    def next_start(self) -> date:
        return self.fy.end + timedelta(days=1)


def lodge_remaining(lodge_id: int) -> LodgeRemaining:
    """The lodge's remaining budget now: the same arithmetic the decisions use."""
    fy = current_fiscal_year()
    cap = rules_for_fiscal_year(fy.key).annual_cap
    return LodgeRemaining(
        remaining=lodge_budget(lodge_id, fy.key, cap).remaining,
        cap=cap,
        fy=fy,
        next_cap=rules_for_fiscal_year(fy.next().key).annual_cap,
    )
