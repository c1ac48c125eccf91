"""The review queue's filters, search, sort and pages, all from the URL (a FilterSet)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.http import QueryDict
from django.utils import timezone

from grants.filters import ApplicationFilterSet
from grants.models import Application, Decision, Lodge, Status
from grants.models.applications import DECIDABLE
from grants.money import ZERO, format_money
from grants.rules import fiscal_year_of, rules_in_force
from grants.selectors.budgets import lodge_budget
from portal.lib.filters import AmountFilter, ChoiceFilter, TextFilter, YearFilter
from portal.permissions import has_permission

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
            Decision.objects.in_force().filter(application=OuterRef("pk")).values("kind")[:1]
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
    filters = queue_filters(queue_query(query))
    return filters, _counted_page(filters.qs, page_number(query))


def _counted_page(rows: QuerySet[Application], number: int) -> Page[Any]:
    """The page of ``rows`` and their total in one query (a window count on each row), not a
    COUNT then the rows; past the last page, the last page (as ``Paginator.get_page``)."""
    start = (number - 1) * PER_PAGE
    found = list(rows.annotate(total_rows=Window(Count("id")))[start : start + PER_PAGE])
    if not found and number > 1:
        return Paginator(rows, PER_PAGE).get_page(number)
    paginator = Paginator(rows, PER_PAGE)
    paginator.__dict__["count"] = found[0].total_rows if found else 0  # the cached_property
    return Page(found, number, paginator)


def queue_query(query: QueryDict) -> QueryDict:
    """The queue opens on "Needs review": a URL that filters nothing (a page or sort at most)
    gets that filter, shown in the form; choosing "All" sends an empty ``status`` instead."""
    if set(query) - {"page", "sort"}:
        return query
    query = query.copy()
    query["status"] = Status.NEEDS_REVIEW
    return query


@dataclass(frozen=True)
class DecisionOptions:
    """What the signed-in person may do with one application, and who can do the rest."""

    can_approve: bool
    can_reject: bool
    note: str  # why an action is not offered, and who can take it ("" when all are)


def decision_options(application: Application, user: Any) -> DecisionOptions:
    """Offer only the decisions ``user`` can take; approving over the remaining budget needs
    the Admin role (the same rule `application_decide` enforces), so a Reviewer is told so."""
    if application.status not in DECIDABLE or not has_permission(
        "grants.application.decide", user, application
    ):
        return DecisionOptions(False, False, "")
    can_approve = application.status != Status.APPROVED
    can_reject = application.status != Status.REJECTED
    note = ""
    if can_approve and not has_permission("grants.application.approve_over_cap", user, application):
        rules = rules_in_force(timezone.now())
        fy = fiscal_year_of(timezone.now(), rules)
        lodge_id = application.lodge_id or (
            Lodge.objects.filter(number=application.lodge_number)
            .values_list("id", flat=True)
            .first()
        )
        if lodge_id is not None:
            budget = lodge_budget(lodge_id, fy.key, rules.annual_cap, exclude_id=application.id)
            if application.amount_requested > budget.remaining:
                can_approve = False
                note = (
                    f"Only an Admin can approve this: {format_money(application.amount_requested)} "
                    f"is requested and {format_money(max(budget.remaining, ZERO))} remains "
                    f"in {fy.label}."
                )
    return DecisionOptions(can_approve, can_reject, note)
