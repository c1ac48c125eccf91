"""Lodges: a searchable list with budget bars, and each lodge's history year by year."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from grants.access import get_lodge_for_user
from grants.quarantine import open_quarantines
from grants.rules import (
    caps_by_fiscal_year,
    read_rules_once,
    rules_for_fiscal_year,
    rules_in_force,
)
from grants.selectors.dashboard import NEAR_CAP_SHARE
from grants.selectors.fiscal_years import chosen_fiscal_year, fiscal_year_choices
from grants.selectors.lodges import SORTS, lodge_history, lodge_rows
from portal.lib.http import HtmxHttpRequest, results_or_page
from portal.lib.views import require

PER_PAGE = 50
# The sortable headers: (sort key, label, the direction it sorts in, for aria-sort and the arrow).
SORT_HEADERS = (
    ("number", "No.", "ascending"),
    ("name", "Lodge", "ascending"),
    ("district", "District", "ascending"),
    ("-used", "Used", "descending"),
    ("remaining", "Remaining", "ascending"),
)
QUARANTINE_SHOWN = 50


@require_safe
@require("grants.lodge.view")
@read_rules_once
def lodge_list(request: HtmxHttpRequest) -> HttpResponse:
    fy = chosen_fiscal_year(request)
    q = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "")
    rules = rules_for_fiscal_year(fy.key)  # the cap that year was decided under
    rows = lodge_rows(fy.key, rules.annual_cap, q=q, sort=sort)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        results_or_page(request, "grants/lodges.html"),
        {
            "title": "Lodges",
            "page": page,
            "fy": fy,
            "fy_choices": fiscal_year_choices(fy),
            "cap": rules.annual_cap,
            "warn_at": rules.annual_cap * NEAR_CAP_SHARE,
            "q": q,
            "sort": sort,
            "sort_headers": SORT_HEADERS,
            "active_sort": sort if sort in SORTS else "number",
            "query_without_page": query.urlencode(),
        },
    )


@require_safe
@require("grants.lodge.view")
@read_rules_once
def lodge_page(request: HtmxHttpRequest, number: int) -> HttpResponse:
    """Ninox grants and portal applications side by side per fiscal year; mismatches flagged."""
    lodge = get_lodge_for_user(request, number)
    rules = rules_in_force()
    history = lodge_history(lodge, rules.fiscal_year_start)
    caps = caps_by_fiscal_year([year["fy"].key for year in history if year["fy"]])
    for year in history:  # each year against the cap it was decided under
        year["cap"] = caps.get(year["fy"].key) if year["fy"] else None
    return render(
        request,
        "grants/lodge.html",
        {
            "title": str(lodge),
            "lodge": lodge,
            "history": history,
            "cap": rules.annual_cap,
            "quarantined": list(open_quarantines(lodge=lodge)[:QUARANTINE_SHOWN]),
        },
    )
