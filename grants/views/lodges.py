"""Lodges: a searchable list with budget bars, and each lodge's history year by year."""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from grants.access import get_lodge_for_user
from grants.fiscal_year import FiscalYear
from grants.models import Application, NinoxGrant
from grants.quarantine import open_quarantines
from grants.rules import rules_in_force
from grants.selectors.budgets import lodges_with_budget
from grants.selectors.dashboard import chosen_fiscal_year, fiscal_year_choices
from portal.lib.http import HtmxHttpRequest
from portal.lib.views import require

PER_PAGE = 50
QUARANTINE_SHOWN = 50
SORTS = {
    "number": "number",
    "name": "name",
    "district": "district",
    "-used": "-used",
    "remaining": "remaining",
}


@require_safe
@require("grants.lodge.view")
def lodge_list(request: HtmxHttpRequest) -> HttpResponse:
    fy = chosen_fiscal_year(request)
    rules = rules_in_force()
    q = request.GET.get("q", "").strip()[:100]
    sort = request.GET.get("sort", "")
    rows = lodges_with_budget(fy.key, rules.annual_cap)
    if q:
        match = Q(name__icontains=q) | Q(district__icontains=q) | Q(city__icontains=q)
        if q.isascii() and q.isdigit() and len(q) <= 9:
            match |= Q(number=int(q))
        rows = rows.filter(match)
    rows = rows.order_by(SORTS.get(sort, "number"), "id")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = (
        "grants/lodges.html#results"
        if request.htmx and request.htmx.target == "results"
        else "grants/lodges.html"
    )
    return render(
        request,
        template,
        {
            "title": "Lodges",
            "page": page,
            "fy": fy,
            "fy_choices": fiscal_year_choices(fy),
            "cap": rules.annual_cap,
            "warn_at": rules.annual_cap * Decimal("0.75"),
            "q": q,
            "sort": sort,
            "query_without_page": query.urlencode(),
        },
    )


@require_safe
@require("grants.lodge.view")
def lodge_page(request: HtmxHttpRequest, number: int) -> HttpResponse:
    """Ninox grants and portal applications side by side per fiscal year; mismatches flagged."""
    lodge = get_lodge_for_user(request, number)
    rules = rules_in_force()
    grants = list(NinoxGrant.objects.filter(lodge=lodge).order_by("-grant_date", "-ninox_id"))
    applications = list(Application.objects.filter(lodge=lodge).order_by("-submitted_at", "-id"))
    in_ninox = {g.reference for g in grants if g.reference}
    by_reference = {a.reference: a for a in applications}
    years: dict[int, dict[str, list[object]]] = {}
    for grant in grants:
        key = grant.fiscal_year or 0
        years.setdefault(key, {"grants": [], "applications": []})["grants"].append(
            {"grant": grant, "flag": _grant_flag(grant, by_reference)}
        )
    for application in applications:
        years.setdefault(application.fiscal_year, {"grants": [], "applications": []})[
            "applications"
        ].append({"application": application, "flag": _application_flag(application, in_ninox)})
    history = []
    for key in sorted(years, reverse=True):
        entry = years[key]
        fy = FiscalYear.from_key(key, rules.fiscal_year_start) if key else None
        used = sum(
            (row["grant"].amount for row in entry["grants"] if row["grant"].counts),  # type: ignore[index]
            Decimal("0.00"),
        )
        history.append({"fy": fy, "used_in_ninox": used, **entry})
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


def _grant_flag(grant: NinoxGrant, by_reference: dict[str, Application]) -> str:
    if not grant.reference:
        return "Entered in Ninox by hand"
    application = by_reference.get(grant.reference)
    if application is None:
        return "Not in the portal"
    if application.amount_requested != grant.amount:
        return f"Amount differs from the portal's {application.amount_requested}"
    return ""


def _application_flag(application: Application, in_ninox: set[str]) -> str:
    if application.status == "paid" and application.reference not in in_ninox:
        return "Paid but not yet in Ninox"
    if application.status == "approved" and application.reference not in in_ninox:
        return "Approved, waiting for payment; not in Ninox yet"
    return ""
