"""The fiscal year a staff page shows (``?fy=2025``) and the years its picker offers."""

from __future__ import annotations

from django.http import HttpRequest

from grants.fiscal_year import FiscalYear
from grants.rules import current_fiscal_year, rules_in_force


def chosen_fiscal_year(request: HttpRequest) -> FiscalYear:
    """The FY named by ``?fy=2025`` (its start year), else the current one."""
    rules = rules_in_force()
    raw = request.GET.get("fy", "")
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2100:
        return FiscalYear.from_key(int(raw), rules.fiscal_year_start)
    return current_fiscal_year()


def fiscal_year_choices(selected: FiscalYear) -> list[FiscalYear]:
    current = current_fiscal_year()
    years = {current.key - 2, current.key - 1, current.key, selected.key}
    return [
        FiscalYear.from_key(key, current.starts or (current.start.month, current.start.day))
        for key in sorted(years, reverse=True)
    ]
