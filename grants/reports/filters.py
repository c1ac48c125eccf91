"""A report's filters, all from the URL: fiscal year, district, status, date range."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.http import QueryDict

from grants.fiscal_year import FiscalYear
from grants.models import Status
from grants.rules import current_fiscal_year, rules_in_force

FILTER_NAMES = ("fy", "district", "status", "date_from", "date_to")


@dataclass
class ReportFilters:
    fy: FiscalYear
    district: str = ""
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: QueryDict) -> ReportFilters:
        """Parse the filters; a malformed value is left out and named in ``errors``."""
        errors: dict[str, list[str]] = {}
        start = rules_in_force().fiscal_year_start
        fy = current_fiscal_year()
        raw_fy = query.get("fy", "").strip()
        if raw_fy:
            if (
                raw_fy.isascii()
                and raw_fy.isdigit()
                and len(raw_fy) == 4
                and 2000 <= int(raw_fy) <= 2100
            ):
                fy = FiscalYear.from_key(int(raw_fy), start)
            else:
                errors["fy"] = ["Fiscal year: choose a year like 2026 (for FY 2026-27)."]
        status = query.get("status", "").strip()
        if status and status not in Status.values:
            errors["status"] = [f"Status: {status[:30]!r} is not a status."]
            status = ""
        date_from = _date(query, "date_from", "From", errors)
        date_to = _date(query, "date_to", "To", errors)
        if date_from and date_to and date_to < date_from:
            errors["date_to"] = ["To: the end date must not be before the start date."]
            date_to = None
        return cls(
            fy=fy,
            district=query.get("district", "").strip()[:100],
            status=status,
            date_from=date_from,
            date_to=date_to,
            errors=errors,
        )

    def as_query(self) -> QueryDict:
        """The filters as a query string (for export links and stored exports)."""
        query = QueryDict(mutable=True)
        query["fy"] = str(self.fy.key)
        for name in ("district", "status"):
            if getattr(self, name):
                query[name] = getattr(self, name)
        if self.date_from:
            query["date_from"] = self.date_from.isoformat()
        if self.date_to:
            query["date_to"] = self.date_to.isoformat()
        return query

    def describe(self) -> str:
        """One line saying what the rows are (shown above tables and in file names)."""
        parts = [f"{self.fy.label} ({self.fy.span})"]
        if self.district:
            parts.append(f"district {self.district}")
        if self.status:
            parts.append(f"status {Status(self.status).label.lower()}")
        if self.date_from or self.date_to:
            parts.append(
                f"dated {self.date_from.isoformat() if self.date_from else '…'}"
                f" to {self.date_to.isoformat() if self.date_to else '…'}"
            )
        return ", ".join(parts)

    def in_range(self, day: date | None) -> bool:
        """Whether ``day`` is inside the date range (no range: always; no day: only then)."""
        if self.date_from is None and self.date_to is None:
            return True
        if day is None:
            return False
        if self.date_from and day < self.date_from:
            return False
        return not (self.date_to and day > self.date_to)


def _date(query: QueryDict, name: str, label: str, errors: dict[str, list[str]]) -> date | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = [f"{label}: enter a date like 2026-05-01."]
        return None
