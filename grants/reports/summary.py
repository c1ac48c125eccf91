"""The fiscal-year summary per lodge: cap, approved, paid, pending, remaining, grants.

Figures come from ``grants.selectors.figures`` over the ledger's rows (Ninox grants and
portal applications together, each grant once); remaining is cap - approved, the lodge's
budget for the whole year exactly as decisions see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

from grants.models import Lodge
from grants.money import ZERO
from grants.reports.filters import ReportFilters
from grants.reports.ledger import Ledger
from grants.reports.table import MONEY, NUMBER, TEXT, Column, Row
from grants.rules import rules_for_fiscal_year
from grants.selectors.figures import Figures, GrantRow, fiscal_year_grants, grant_rows

NO_DISTRICT = "(no district)"

COLUMNS = (
    Column("lodge_number", "Lodge number", NUMBER, 8),
    Column("lodge", "Lodge", TEXT, 30),
    Column("district", "District", TEXT, 14),
    Column("cap", "Cap", MONEY, 12, total=True),
    Column("approved", "Approved", MONEY, 12, total=True),
    Column("paid", "Paid", MONEY, 12, total=True),
    Column("pending", "Pending", MONEY, 12, total=True),
    Column("remaining", "Remaining", MONEY, 12, total=True),
    Column("over_cap", "Over the cap by", MONEY, 12, total=True, warn=True),
    Column("grants", "Grants", NUMBER, 8, total=True, more=True),
    Column("lodge_share_received", "Lodge share received", MONEY, 12, total=True),
)


@dataclass
class Totals:
    """Every figure the summary page, its chart and its exports need, in one pass."""

    by_lodge: dict[int | None, Figures] = field(default_factory=dict)
    by_district: dict[str, Figures] = field(default_factory=dict)
    approved_by_month: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    paid_by_month: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    all: Figures = field(default_factory=Figures)


def tally(rows: Iterable[GrantRow]) -> Totals:
    totals = Totals()
    for row in rows:
        totals.by_lodge.setdefault(row.lodge_id, Figures()).add(row)
        totals.by_district.setdefault(row.district or NO_DISTRICT, Figures()).add(row)
        totals.all.add(row)
        if row.approved and row.grant_date:
            key = _month(row.grant_date)
            totals.approved_by_month[key] = totals.approved_by_month.get(key, ZERO) + row.approved
        if row.paid and row.paid_on:
            key = _month(row.paid_on)
            totals.paid_by_month[key] = totals.paid_by_month.get(key, ZERO) + row.paid
    return totals


def _month(day: date) -> tuple[int, int]:
    return (day.year, day.month)


class Summary:
    slug = "summary"
    title = "FY summary per lodge"
    columns: tuple[Column, ...] = COLUMNS

    def __init__(self, filters: ReportFilters) -> None:
        self.filters = filters
        self.cap = rules_for_fiscal_year(filters.fy.key).annual_cap  # that year's own cap
        self._totals: Totals | None = None

    @property
    def totals(self) -> Totals:
        if self._totals is None:
            self._totals = tally(Ledger(self.filters).figures())
        return self._totals

    def year_approved(self) -> dict[int | None, Figures]:
        """Each lodge's figures for the whole year (remaining ignores a status or date filter)."""
        f = self.filters
        if not (f.status or f.date_from or f.date_to):
            return self.totals.by_lodge
        return tally(grant_rows(*fiscal_year_grants(f.fy.key, district=f.district))).by_lodge

    def lodges(self) -> Any:
        """Active lodges, and any lodge with a row here, with their budget for the year."""
        with_rows = [key for key in self.totals.by_lodge if key is not None]
        lodges = Lodge.objects.filter(Q(active=True) | Q(id__in=with_rows))
        if self.filters.district:
            lodges = lodges.filter(district=self.filters.district)
        return lodges.order_by("number", "id")

    def count(self) -> int:
        return self.lodges().count() + (1 if None in self.totals.by_lodge else 0)

    def rows(self) -> Iterator[Row]:
        by_lodge = self.totals.by_lodge
        year = self.year_approved()
        for lodge in self.lodges().iterator(chunk_size=2000):
            used = year[lodge.id].approved if lodge.id in year else ZERO
            yield _row(
                by_lodge.get(lodge.id, Figures()),
                remaining=self.cap - used,  # below zero: over the cap (shown as such)
                lodge_number=lodge.number,
                lodge=lodge.name,
                district=lodge.district,
                cap=self.cap,
            )
        orphan = by_lodge.get(None)
        if orphan is not None:
            yield _row(
                orphan,
                lodge_number=None,
                lodge="(grants with no lodge in the mirror)",
                district="",
                cap=ZERO,
                remaining=ZERO,
            )


def _row(
    figures: Figures,
    *,
    lodge_number: int | None,
    lodge: str,
    district: str,
    cap: Decimal,
    remaining: Decimal,
) -> Row:
    return {
        "lodge_number": lodge_number,
        "lodge": lodge,
        "district": district,
        "cap": cap,
        "approved": figures.approved,
        "paid": figures.paid,
        "pending": figures.pending,
        # Never a negative remaining: a lodge over a (lowered) cap has none left and shows
        # by how much it is over in a column of its own.
        "remaining": max(remaining, ZERO),
        "over_cap": max(-remaining, ZERO),
        "grants": figures.grants,
        # Only where the portal took a payment: a lodge whose grants are all entered in
        # Ninox has no such figure ("—"), not $0.00.
        "lodge_share_received": figures.share_received if figures.took_payment else None,
    }
