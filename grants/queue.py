"""The review queue's filters, search, sort and pages, all from the URL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import QueryDict

from grants.models import Application, Decision, Status

PER_PAGE = 50
SORTS = {
    "submitted": "submitted_at",
    "-submitted": "-submitted_at",
    "amount": "amount_requested",
    "-amount": "-amount_requested",
    "lodge": "lodge_number",
    "-lodge": "-lodge_number",
    "reference": "reference",
    "-reference": "-reference",
}
DECISION_KINDS = {"auto": "Automatic", "review": "Reviewer", "override": "Override", "bulk": "Bulk"}


@dataclass
class QueueFilters:
    q: str = ""
    status: str = ""
    fy: int | None = None
    district: str = ""
    kind: str = ""
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    sort: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: QueryDict) -> QueueFilters:
        def money(name: str) -> Decimal | None:
            try:
                value = Decimal(query.get(name, "").strip().replace(",", "").lstrip("$"))
            except (InvalidOperation, ValueError):
                return None
            return value if value.is_finite() and value >= 0 else None

        fy_raw = query.get("fy", "")
        page_raw = query.get("page", "1")
        return cls(
            q=query.get("q", "").strip()[:100],
            status=query.get("status", "") if query.get("status", "") in Status.values else "",
            fy=int(fy_raw) if fy_raw.isascii() and fy_raw.isdigit() and len(fy_raw) == 4 else None,
            district=query.get("district", "").strip()[:100],
            kind=query.get("kind", "") if query.get("kind", "") in DECISION_KINDS else "",
            amount_min=money("amount_min"),
            amount_max=money("amount_max"),
            sort=query.get("sort", "") if query.get("sort", "") in SORTS else "",
            page=int(page_raw)
            if page_raw.isascii() and page_raw.isdigit() and 0 < len(page_raw) < 7
            else 1,
        )


def queue_queryset(filters: QueueFilters) -> QuerySet[Application]:
    rows = Application.objects.select_related("lodge")
    if filters.q:
        q = filters.q
        match = (
            Q(reference__icontains=q) | Q(charity_name__icontains=q) | Q(contact_name__icontains=q)
        )
        match |= Q(contact_email__icontains=q) | Q(lodge__name__icontains=q)
        if q.isascii() and q.isdigit() and len(q) <= 9:
            match |= Q(lodge_number=int(q))
        rows = rows.filter(match)
    if filters.status:
        rows = rows.filter(status=filters.status)
    if filters.fy:
        rows = rows.filter(fiscal_year=filters.fy)
    if filters.district:
        rows = rows.filter(lodge__district=filters.district)
    if filters.kind:
        # Only when filtering by it: a correlated subquery per row costs on every view.
        latest_kind = (
            Decision.objects.filter(application=OuterRef("pk"))
            .order_by("-created_at", "-id")
            .values("kind")[:1]
        )
        rows = rows.annotate(decision_kind=Subquery(latest_kind)).filter(decision_kind=filters.kind)
    if filters.amount_min is not None:
        rows = rows.filter(amount_requested__gte=filters.amount_min)
    if filters.amount_max is not None:
        rows = rows.filter(amount_requested__lte=filters.amount_max)
    if filters.sort:
        return rows.order_by(SORTS[filters.sort], "-id")
    # needs_review first, then everything else, newest first.
    first = Case(
        When(status=Status.NEEDS_REVIEW, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return rows.order_by(first, "-submitted_at", "-id")


def queue_page(filters: QueueFilters) -> Page[Any]:
    paginator = Paginator(queue_queryset(filters), PER_PAGE)
    return paginator.get_page(filters.page)
