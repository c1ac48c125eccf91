"""The reports by slug (the URL's and a stored export's name for each) and the file formats."""

from __future__ import annotations

from grants.reports.filters import ReportFilters
from grants.reports.ledger import Ledger
from grants.reports.reconciliation import Reconciliation
from grants.reports.summary import Summary
from grants.reports.table import Report

FORMATS = ("csv", "xlsx")
REPORTS: dict[str, type[Summary] | type[Ledger] | type[Reconciliation]] = {
    "summary": Summary,
    "ledger": Ledger,
    "reconciliation": Reconciliation,
}


def build_report(slug: str, filters: ReportFilters) -> Report:
    return REPORTS[slug](filters)
