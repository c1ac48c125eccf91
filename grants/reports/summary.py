"""The fiscal-year summary per lodge: cap, approved, paid, pending, remaining, grants.

Figures come from the ledger's rows (Ninox grants and portal applications together,
each grant once); remaining is the lodge's budget for the whole year, as decisions see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q

from grants.money import ZERO
from grants.reports.filters import ReportFilters
from grants.reports.ledger import Ledger, LedgerRow
from grants.reports.table import MONEY, NUMBER, TEXT, Column, Row
from grants.rules import rules_for_fiscal_year
from grants.selectors.budgets import lodges_with_budget

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
    Column("grants", "Grants", NUMBER, 8, total=True),
)


@dataclass
class Tally:
    approved: Decimal = ZERO
    paid: Decimal = ZERO
    grants: int = 0

    def add(self, row: LedgerRow) -> None:
        if row.approved:
            self.approved += row.approved
            self.grants += 1
        self.paid += row.paid

    @property
    def pending(self) -> Decimal:
        return self.approved - self.paid


@dataclass
class Totals:
    """Every figure the summary page, its chart and its exports need, in one pass."""

    by_lodge: dict[int | None, Tally] = field(default_factory=dict)
    by_district: dict[str, Tally] = field(default_factory=dict)
    approved_by_month: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    paid_by_month: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    names: dict[int | None, tuple[int | None, str, str]] = field(default_factory=dict)


def tally(rows: Iterable[LedgerRow]) -> Totals:
    totals = Totals()
    for row in rows:
        totals.by_lodge.setdefault(row.lodge_id, Tally()).add(row)
        totals.by_district.setdefault(row.district or NO_DISTRICT, Tally()).add(row)
        totals.names.setdefault(row.lodge_id, (row.lodge_number, row.lodge_name, row.district))
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

    def lodges(self) -> Any:
        """Active lodges, and any lodge with a row here, with their budget for the year."""
        with_rows = [key for key in self.totals.by_lodge if key is not None]
        lodges = lodges_with_budget(self.filters.fy.key, self.cap).filter(
            Q(active=True) | Q(id__in=with_rows)
        )
        if self.filters.district:
            lodges = lodges.filter(district=self.filters.district)
        return lodges.order_by("number", "id")

    def count(self) -> int:
        return self.lodges().count() + (1 if None in self.totals.by_lodge else 0)

    def rows(self) -> Iterator[Row]:
        by_lodge = self.totals.by_lodge
        for lodge in self.lodges().iterator(chunk_size=2000):
            yield _row(
                by_lodge.get(lodge.id, Tally()),
                lodge_number=lodge.number,
                lodge=lodge.name,
                district=lodge.district,
                cap=self.cap,
                remaining=lodge.remaining,
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
    figures: Tally,
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
        "remaining": remaining,
        "grants": figures.grants,
    }
