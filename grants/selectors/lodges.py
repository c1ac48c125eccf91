"""Lodges for staff pages: the searchable list with budgets, one lodge's history, districts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from grants.districts import district_order, sorted_districts
from grants.fiscal_year import FiscalYear
from grants.models import Application, Lodge, NinoxGrant, Status
from grants.money import ZERO
from grants.selectors.budgets import lodges_with_budget

SORTS = {
    "number": "number",
    "name": "name",
    "district": "district_order",
    "-used": "-used",
    "remaining": "remaining",
}


def lodge_rows(fiscal_year: int, cap: Decimal, *, q: str = "", sort: str = "") -> QuerySet[Lodge]:
    """Lodges with their budget in the FY, matching ``q`` (name, district, city or number),
    in the order ``sort`` names (by number if it names none)."""
    rows = lodges_with_budget(fiscal_year, cap)
    if q:
        match = Q(name__icontains=q) | Q(district__icontains=q) | Q(city__icontains=q)
        if q.isascii() and q.isdigit() and len(q) <= 9:
            match |= Q(number=int(q))
        rows = rows.filter(match)
    if sort == "district":
        rows = rows.annotate(district_order=district_order())
        return rows.order_by("district_order", "district", "number", "id")
    return rows.order_by(SORTS.get(sort, "number"), "id")


def lodge_districts() -> list[str]:
    """Every district a lodge names, by number ("First" … "Twelfth"; the filters' choices)."""
    return sorted_districts(
        Lodge.objects.exclude(district="").values_list("district", flat=True).order_by().distinct()
    )


def lodge_history(lodge: Lodge, fiscal_year_start: tuple[int, int]) -> list[dict[str, Any]]:
    """Ninox grants and portal applications side by side per fiscal year, newest first;
    grants without a date come last. Each row has a ``flag`` where the two really disagree
    (a warning) or a ``note`` where they differ as expected (a grant from before the portal,
    one entered in Ninox by hand, an approval waiting for payment)."""
    grants = list(NinoxGrant.objects.filter(lodge=lodge).order_by("-grant_date", "-ninox_id"))
    applications = list(Application.objects.filter(lodge=lodge).order_by("-submitted_at", "-id"))
    portal_began = portal_start()
    in_ninox = {g.reference for g in grants if g.reference}
    by_reference = {a.reference: a for a in applications}
    years: dict[int, dict[str, list[Any]]] = {}
    for grant in grants:
        key = grant.fiscal_year or 0
        flag, note = _grant_flag(grant, by_reference, portal_began)
        years.setdefault(key, {"grants": [], "applications": []})["grants"].append(
            {"grant": grant, "flag": flag, "note": note}
        )
    for application in applications:
        flag, note = _application_flag(application, in_ninox)
        years.setdefault(application.fiscal_year, {"grants": [], "applications": []})[
            "applications"
        ].append({"application": application, "flag": flag, "note": note})
    history = []
    for key in sorted(years, reverse=True):
        entry = years[key]
        fy = FiscalYear.from_key(key, fiscal_year_start) if key else None
        used = sum((row["grant"].amount for row in entry["grants"] if row["grant"].counts), ZERO)
        history.append({"fy": fy, "used_in_ninox": used, **entry})
    return history


def portal_start() -> date | None:
    """The local day of the portal's first application (None before any): Ninox grants dated
    earlier were made before the portal and are not expected to be in it."""
    first = Application.objects.aggregate(first=Min("submitted_at"))["first"]
    return timezone.localdate(first) if first else None


def _grant_flag(
    grant: NinoxGrant, by_reference: dict[str, Application], portal_began: date | None
) -> tuple[str, str]:
    """(a real disagreement, or an expected difference) for a Ninox grant; "" for none."""
    if not grant.reference:
        return "", "Entered in Ninox by hand"
    application = by_reference.get(grant.reference)
    if application is None:
        if portal_began is None or (grant.grant_date and grant.grant_date < portal_began):
            return "", "From before the portal"
        return "Not in the portal", ""
    if application.status == Status.REFUNDED:
        # A full refund: the row keeps the match granted and becomes Cancelled.
        if grant.status != NinoxGrant.CANCELLED:
            return "Refunded in the portal; not yet Cancelled in Ninox", ""
        expected = application.amount_requested
    else:
        expected = application.match_kept  # the match that stays after a partial refund
    if expected != grant.amount:
        return f"Amount differs from the portal's {expected}", ""
    return "", ""


def _application_flag(application: Application, in_ninox: set[str]) -> tuple[str, str]:
    if application.status == Status.PAID and application.reference not in in_ninox:
        return "Paid but not yet in Ninox", ""
    if application.status == Status.APPROVED and application.reference not in in_ninox:
        return "", "Approved, waiting for payment; not in Ninox yet"
    return "", ""
