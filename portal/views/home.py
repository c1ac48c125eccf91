"""The signed-in home page and the health views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal import health
from portal.dashboard import panels_for
from portal.health_panels import attention_items, health_panels_for, split_pending
from portal.lib.views import require
from portal.models import ServiceCheck


@require_safe
@require("portal.home")
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/home.html", {"title": "Dashboard", "panels": panels_for(request)}
    )


@require_safe
@require("portal.health.view")
def health_page(request: HttpRequest) -> HttpResponse:
    database = health.database_state()
    panels = health_panels_for(request)
    attention, pending = split_pending(attention_items(panels))
    if database != "ok":
        attention.insert(
            0,
            {
                "anchor": "h-parts",
                "problem": f"The database is not answering: {database}.",
                "todo": "Check that PostgreSQL is running and DATABASE_URL is right.",
            },
        )
    return render(
        request,
        "portal/health.html",
        {
            "title": "Integration health",
            "database": database,
            "ninox": health.ninox_state(),
            "ninox_check": ServiceCheck.objects.filter(name="ninox").first(),
            "panels": panels,
            "attention": attention,
            "pending": pending,
            "not_yet": health.NOT_YET_PROBED,
        },
    )


@login_not_required
@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 with each part's state; 503 when the database, which everything needs, is down."""
    database = health.database_state()
    body = {
        "database": database,
        "broker": health.broker_state(),
        "ninox": health.ninox_state() if database == "ok" else "unknown: database unreachable",
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)
