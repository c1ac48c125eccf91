"""The application page: every field, the decisions with their figures, the timeline, actions."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from grants.access import get_application_for_user
from grants.selectors import fiscal_year_label
from grants.timeline import application_timeline
from portal.lib.http import HtmxHttpRequest
from portal.lib.views import require
from portal.permissions import has_permission


@require_GET
@require("grants.application.view")
def application_page(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    application = get_application_for_user(request, reference)
    template = (
        "grants/application.html#actions"
        if request.htmx and request.htmx.target == "actions"
        else "grants/application.html"
    )
    return render(
        request,
        template,
        {
            "title": f"Application {application.reference}",
            "application": application,
            "fiscal_year": fiscal_year_label(application),
            "decisions": list(
                application.decisions.select_related("decided_by").order_by("-created_at", "-id")
            ),
            "timeline": application_timeline(application),
            "can_decide": has_permission(
                "grants.application.decide", request.user, application
            ).allowed,
        },
    )
