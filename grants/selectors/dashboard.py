"""The figures on the staff dashboard for one fiscal year (a fixed number of queries)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from grants.models import Application, Decision, Status
from grants.rules import fiscal_year_of, rules_for_fiscal_year, rules_in_force
from grants.selectors.budgets import lodges_with_budget
from grants.selectors.figures import fiscal_year_figures
from grants.selectors.fiscal_years import chosen_fiscal_year, fiscal_year_choices
from ninox_backend.ninox.mirror import sync_status

NEAR_CAP_SHARE = Decimal("0.75")


def status_counts(fiscal_year: int) -> dict[str, Any]:
    """Applications today, waiting, approved (unpaid), paid: one query (the money is in
    ``grants.selectors.figures``)."""
    # A range on the indexed timestamp, not __date: that casts every row (slow on SQLite).
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = Q(submitted_at__gte=midnight, submitted_at__lt=midnight + timedelta(days=1))
    return Application.objects.filter(fiscal_year=fiscal_year).aggregate(
        today=Count("id", filter=today),
        waiting=Count("id", filter=Q(status=Status.NEEDS_REVIEW)),
        approved=Count("id", filter=Q(status=Status.APPROVED)),
        paid=Count("id", filter=Q(status=Status.PAID)),
    )


def dashboard_counters(request: HttpRequest) -> dict[str, Any]:
    """The dashboard's counters and money for the chosen fiscal year: what a decision changes,
    refreshed alone after one (``grants:dashboard_counters``)."""
    # The rules are read once (one query) and reused for the current year and the choices.
    now_rules = rules_in_force()
    current = fiscal_year_of(timezone.now(), now_rules)
    fy = chosen_fiscal_year(request, now_rules)
    # The cap that year was decided under (the rules in force, for the current year).
    rules = now_rules if fy.key == current.key else rules_for_fiscal_year(fy.key)
    figures = fiscal_year_figures(fy.key, rules.annual_cap)  # the programme's, as the reports'
    return {
        "fy": fy,
        "current": current,
        "rules": rules,
        "counts": status_counts(fy.key),
        "figures": figures,
        "money_approved": figures.approved,
        "money_paid": figures.paid,
        "total_caps": figures.cap,
    }


def dashboard_figures(request: HttpRequest) -> dict[str, Any]:
    counters = dashboard_counters(request)
    fy, rules, current = counters["fy"], counters["rules"], counters["current"]
    near = (
        lodges_with_budget(fy.key, rules.annual_cap)
        .filter(used__gte=rules.annual_cap * NEAR_CAP_SHARE)  # type: ignore[misc]  # an annotation
        .order_by("remaining", "number")[:10]
    )
    return {
        **counters,
        "fy_choices": fiscal_year_choices(fy, current),
        "cap": rules.annual_cap,
        "near_cap": list(near),
        "newest_decisions": list(Decision.objects.in_force().select_related("application")[:8]),
        "sync": sync_status(),
    }
