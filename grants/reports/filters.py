"""A report's filters, all from the URL: fiscal year, district, status, date range.

Declared once as a FilterSet: it parses the query (a malformed value is left out and
named in ``problems``) and ``scope`` applies the filters to each query a report makes,
at the field that model names them by.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from grants.filters import ApplicationFilterSet
from grants.fiscal_year import FiscalYear
from grants.models import Status
from grants.rules import current_fiscal_year, rules_in_force
from portal.lib.filters import DateFilter, YearFilter


class ReportFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "To: the end date must not be before the start date.")
        return cleaned


class ReportFilterSet(ApplicationFilterSet):
    """The filters every report takes. Field names are the application's; ``scope`` maps them."""

    fy = YearFilter(field_name="fiscal_year", label="Fiscal year")
    date_from = DateFilter(field_name="grant_date", lookup_expr="gte", label="From")
    date_to = DateFilter(field_name="grant_date", lookup_expr="lte", label="To")

    class Meta(ApplicationFilterSet.Meta):
        form = ReportFilterForm


class ReportFilters:
    """What the reports read: the FilterSet's values by name (a fiscal year always), its
    ``problems``, and ``scope`` to apply it. (A FilterSet's own attributes are its filters.)"""

    def __init__(self, filterset: ReportFilterSet) -> None:
        self.filterset = filterset
        self.parsed = filterset.values
        self.problems = filterset.problems

    @classmethod
    def from_query(cls, query: QueryDict) -> ReportFilters:
        return cls(ReportFilterSet(query))

    @cached_property
    def fy(self) -> FiscalYear:
        """The fiscal year asked for, else the current one."""
        key = self.parsed["fy"]
        if key is None:
            return current_fiscal_year()
        return FiscalYear.from_key(key, rules_in_force().fiscal_year_start)

    @property
    def district(self) -> str:
        return str(self.parsed["district"])

    @property
    def status(self) -> str:
        return str(self.parsed["status"])

    @property
    def date_from(self) -> date | None:
        value: date | None = self.parsed["date_from"]
        return value

    @property
    def date_to(self) -> date | None:
        value: date | None = self.parsed["date_to"]
        return value

    def scope(self, rows: QuerySet[Any], prefix: str = "", **fields: str) -> QuerySet[Any]:
        """``rows`` narrowed by every filter: at its declared field after ``prefix``, or at
        ``fields[name]`` where this model names it otherwise ("" leaves that filter out)."""
        for name, declared in self.filterset.filters.items():
            field = fields.get(name, prefix + declared.field_name)
            value = self.fy.key if name == "fy" else getattr(self, name)
            if field and value not in ("", None):
                rows = rows.filter(**{f"{field}__{declared.lookup_expr}": value})
        return rows

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
