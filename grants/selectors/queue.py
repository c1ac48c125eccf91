"""The review queue's filters, search, sort and pages, all from the URL (a FilterSet)."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import QueryDict

from grants.filters import ApplicationFilterSet
from grants.models import Application, Decision, Status
from portal.lib.filters import AmountFilter, ChoiceFilter, TextFilter, YearFilter

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


class QueueFilterSet(ApplicationFilterSet):
    """The queue's filters; a value that does not parse is ignored (the queue shows no errors)."""

    q = TextFilter(max_chars=100, label="Search", method="search")
    fy = YearFilter(field_name="fiscal_year", min_year=0, max_year=9999, label="Fiscal year")
    kind = ChoiceFilter(
        choices=list(DECISION_KINDS.items()), label="Decided by", method="decided_by"
    )
    amount_min = AmountFilter(field_name="amount_requested", lookup_expr="gte", label="Match from")
    amount_max = AmountFilter(field_name="amount_requested", lookup_expr="lte", label="Match to")
    sort = ChoiceFilter(choices=[(key, key) for key in SORTS], label="Sort", method="sort_by")

    def search(self, rows: QuerySet[Application], name: str, q: str) -> QuerySet[Application]:
        match = (
            Q(reference__icontains=q) | Q(charity_name__icontains=q) | Q(contact_name__icontains=q)
        )
        match |= Q(contact_email__icontains=q) | Q(lodge__name__icontains=q)
        if q.isascii() and q.isdigit() and len(q) <= 9:
            match |= Q(lodge_number=int(q))
        return rows.filter(match)

    def decided_by(
        self, rows: QuerySet[Application], name: str, kind: str
    ) -> QuerySet[Application]:
        # Only when filtering by it: a correlated subquery per row costs on every view.
        latest_kind = (
            Decision.objects.filter(application=OuterRef("pk"))
            .order_by("-created_at", "-id")
            .values("kind")[:1]
        )
        return rows.annotate(decision_kind=Subquery(latest_kind)).filter(decision_kind=kind)

    def sort_by(self, rows: QuerySet[Application], name: str, sort: str) -> QuerySet[Application]:
        return rows.order_by(SORTS[sort], "-id")


def queue_filters(query: QueryDict) -> QueueFilterSet:
    # needs_review first, then everything else, newest first (unless sorted by a column).
    first = Case(
        When(status=Status.NEEDS_REVIEW, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    rows = Application.objects.select_related("lodge").order_by(first, "-submitted_at", "-id")
    return QueueFilterSet(query, queryset=rows)


def page_number(query: QueryDict) -> int:
    raw = query.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) < 7 else 1


def queue_page(query: QueryDict) -> tuple[QueueFilterSet, Page[Any]]:
    """The filters as parsed, and the page of applications they select."""
    filters = queue_filters(query)
    return filters, Paginator(filters.qs, PER_PAGE).get_page(page_number(query))
