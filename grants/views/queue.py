"""The review queue: filters and search in the URL, decisions from the row, bulk decisions."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import trigger_client_event

from grants.access import get_application_for_user
from grants.models import Application, Reapply, Status
from grants.models.applications import AWAITING_DECISION
from grants.rules import current_fiscal_year
from grants.selectors.dashboard import dashboard_counters, status_counts
from grants.selectors.lodges import lodge_districts
from grants.selectors.queue import DECISION_KINDS, decision_options, queue_page
from grants.services.review import (
    UNDO_SECONDS,
    application_decide,
    application_decision_undo,
    applications_bulk_decide,
    bulk_preview,
)
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, results_or_page
from portal.lib.views import require

BULK_LIMIT = 200
REFERENCE = re.compile(r"[A-Z]{2}-[0-9]{4}-[0-9]{5,6}")


def _queue_context(request: HtmxHttpRequest) -> dict[str, object]:
    filters, page = queue_page(request.GET)
    current = current_fiscal_year()
    return {
        "counts": status_counts(current.key),
        "fy": current,
        "title": "Review queue",
        "filters": filters.values,
        "page": page,
        "statuses": Status.choices,
        "status_label": dict(Status.choices).get(str(filters.values.get("status") or ""), ""),
        "kinds": DECISION_KINDS.items(),
        "awaiting": AWAITING_DECISION,
        "districts": lodge_districts(),
        "fy_keys": [current.key, current.key - 1, current.key - 2],
        "query_without_page": _query_without(request, "page"),
        "query_without_sort": _query_without(request, "sort", "page"),
    }


def _query_without(request: HtmxHttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


@require_safe
@require("grants.queue.view")
def queue(request: HtmxHttpRequest) -> HttpResponse:
    if request.htmx and request.htmx.target == "queue-counters":
        fy = current_fiscal_year()
        return render(
            request, "grants/queue.html#counters", {"counts": status_counts(fy.key), "fy": fy}
        )
    return render(request, results_or_page(request, "grants/queue.html"), _queue_context(request))


def _row(
    request: HtmxHttpRequest,
    application: Application,
    *,
    expanded: bool,
    error: str = "",
) -> HttpResponse:
    """One queue row; expanded, it carries the decision the signed-in person may take."""
    context: dict[str, object] = {
        "application": application,
        "awaiting": AWAITING_DECISION,
        "row_error": error,
        "options": decision_options(application, request.user) if expanded else None,
        "typed": {
            "message": request.POST.get("message", ""),
            "internal_note": request.POST.get("internal_note", ""),
        },
    }
    return render(request, "grants/queue.html#row", context)


def _actions(request: HtmxHttpRequest, application: Application, error: str = "") -> HttpResponse:
    """The application page's decision section, after a decision or its undo."""
    return render(
        request,
        "grants/application.html#actions",
        {"application": application, "row_error": error, "reapply_choices": Reapply.choices},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require("grants.application.decide")
def decide(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """GET (HTMX): the row, expanded with what may be decided (fetched on demand, so the list
    stays small); POST: approve or reject; the row swaps itself in place, and an error keeps
    what was typed."""
    application = get_application_for_user(request, reference, "grants.application.decide")
    if request.method != "POST":
        if not request.htmx:
            return redirect("grants:application", reference=reference)
        return _row(request, application, expanded=request.GET.get("close") != "1")
    outcome = request.POST.get("outcome", "")
    error = ""
    try:
        application_decide(
            application=application,
            actor=request.user,
            outcome=outcome,
            message=request.POST.get("message", ""),
            internal_note=request.POST.get("internal_note", ""),
            reapply=request.POST.get("reapply", ""),
        )
    except PortalError as exc:
        error = (
            exc.message if not exc.errors else " ".join(m for ms in exc.errors.values() for m in ms)
        )
    else:  # application_decide has re-read the application
        done = f"{application.reference} {application.get_status_display().lower()}."
        if not request.htmx:
            messages.success(request, done)
    if request.htmx:
        if error:  # as it is now (another may have decided meanwhile)
            application.refresh_from_db()
        detail = request.POST.get("from") == "detail"
        if detail:
            response = _actions(request, application, error)
        else:
            response = _row(request, application, expanded=bool(error), error=error)
        if not error:
            trigger_client_event(response, "applicationChanged")
            # portal.js shows it as a toast with an Undo button for the minute the email
            # waits; Undo swaps back what was decided from (the queue row, or the page's
            # decision section).
            trigger_client_event(
                response,
                "decisionMade",
                {
                    "message": f"{done} The email to the lodge goes in {UNDO_SECONDS} seconds.",
                    "undo": reverse("grants:decision_undo", args=[application.reference]),
                    "row": "actions" if detail else f"row-{application.reference}",
                    "values": {"from": "detail"} if detail else {},
                    "seconds": UNDO_SECONDS,
                },
            )
        return response
    if error:
        messages.error(request, error)
    return redirect("grants:application", reference=reference)


@require_POST
@require("grants.application.decide")
def decision_undo(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Undo one's own decision within the minute its email waits; the row shows it waiting."""
    application = get_application_for_user(request, reference, "grants.application.decide")
    try:
        application_decision_undo(application=application, actor=request.user)
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{reference}: decision undone; nothing was sent to the lodge.")
    if request.htmx:  # application_decision_undo refreshed the application
        if request.POST.get("from") == "detail":
            response = _actions(request, application)
        else:
            response = _row(request, application, expanded=False)
        trigger_client_event(response, "applicationChanged")
        return response
    return redirect("grants:application", reference=reference)


@require_http_methods(["GET", "HEAD", "POST"])
@require("grants.application.decide")
def bulk(request: HtmxHttpRequest) -> HttpResponse:
    """Confirm, then decide each selected row on its own; shows a result per row."""
    selected = request.POST.getlist("selected") or request.GET.getlist("selected")
    # Only what can be a reference: anything else names no application (and makes no link).
    references = [r for r in dict.fromkeys(selected) if REFERENCE.fullmatch(r)][:BULK_LIMIT]
    outcome = request.POST.get("outcome") or request.GET.get("outcome", "")
    context: dict[str, object] = {
        "title": "Bulk decision",
        "references": references,
        "outcome": outcome,
    }
    context["preview"] = bulk_preview(references)
    if request.method == "POST" and request.POST.get("confirmed") == "yes":
        try:
            context["results"] = applications_bulk_decide(
                references=references,
                actor=request.user,
                outcome=outcome,
                message=request.POST.get("message", ""),
                internal_note=request.POST.get("internal_note", ""),
            )
        except PortalError as exc:
            context["error"] = exc.message
    return render(request, "grants/bulk.html", context)


@require_safe
@require("grants.lodge.view")
def dashboard_counters_view(request: HtmxHttpRequest) -> HttpResponse:
    """The dashboard's counters alone (a fragment): they refresh after each decision."""
    return render(
        request, "grants/dashboard_panel.html#counters", {"panel": dashboard_counters(request)}
    )
