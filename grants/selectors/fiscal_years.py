"""The fiscal year a staff page shows (``?fy=2025``) and the years its picker offers."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from grants.fiscal_year import FiscalYear
from grants.models import GrantRules
from grants.rules import current_fiscal_year, fiscal_year_of, rules_in_force


def chosen_fiscal_year(request: HttpRequest, rules: GrantRules | None = None) -> FiscalYear:
    """The FY named by ``?fy=2025`` (its start year), else the current one (under ``rules``,
    default those in force: pass them when already read, to save their query)."""
    rules = rules or rules_in_force()
    raw = request.GET.get("fy", "")
    if raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2100:
        return FiscalYear.from_key(int(raw), rules.fiscal_year_start)
    return fiscal_year_of(timezone.now(), rules)


def fiscal_year_choices(
    selected: FiscalYear, current: FiscalYear | None = None
) -> list[FiscalYear]:
    current = current or current_fiscal_year()
    years = {current.key - 2, current.key - 1, current.key, selected.key}
    return [
        FiscalYear.from_key(key, current.starts or (current.start.month, current.start.day))
        for key in sorted(years, reverse=True)
    ]
