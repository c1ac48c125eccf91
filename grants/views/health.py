"""The grants' panels on the health page (Ninox, outbox, Stripe) and their admin buttons."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from grants.drift import DRIFT_CHECK, open_findings
from grants.fiscal_year import FiscalYear
from grants.health_tasks import SCHEMA_CHECK
from grants.models import Lodge, OutboxMessage, Payment, WebhookEvent
from grants.ninox_usage import projected_monthly_calls
from grants.quarantine import describe, open_quarantines
from grants.rules import rules_in_force
from grants.services.operations import drift_check_request, ninox_sync_request, outbox_retry
from ninox_backend.mirror import sync_status
from ninox_backend.models import NinoxCall
from ninox_backend.quota import quota_state
from portal import health
from portal.health_panels import HealthPanel, register_health_panel
from portal.lib.http import HtmxHttpRequest
from portal.lib.views import require
from portal.models import ServiceCheck

RECENT_ERRORS = 10
ROWS_SHOWN = 20
# Webhook results that mean the event was not applied as a payment.
WEBHOOK_PROBLEMS = Q(result="") | Q(result__startswith="ignored:") | Q(result__startswith="flagged")


def _ninox(request: HttpRequest) -> dict[str, Any]:
    checks = {
        c.name: c
        for c in ServiceCheck.objects.filter(name__in=("ninox", SCHEMA_CHECK, DRIFT_CHECK))
    }
    findings: list[dict[str, Any]] = [{"finding": f} for f in open_findings()]
    if findings:
        start = rules_in_force().fiscal_year_start
        for row in findings:
            row["fiscal_year"] = FiscalYear.from_key(row["finding"].fiscal_year, start)
    midnight = datetime.combine(timezone.localdate(), time.min, timezone.get_current_timezone())
    today = NinoxCall.objects.filter(at__gte=midnight).aggregate(n=Sum("attempts"))["n"] or 0
    state = health.ninox_state()
    return {
        "state": state,
        "ok": state == "ok",
        "probe": checks.get("ninox"),
        "schema": checks.get(SCHEMA_CHECK),
        "sync": sync_status(),
        "quota": quota_state(),
        "calls_today": today,
        "projection": projected_monthly_calls(),
        "drift": checks.get(DRIFT_CHECK),
        "drift_findings": findings,
        "errors": list(
            NinoxCall.objects.filter(
                Q(status__gte=400) | Q(status__isnull=True) | ~Q(error="")
            ).order_by("-at")[:RECENT_ERRORS]
        ),
    }


def _outbox(request: HttpRequest) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for row in OutboxMessage.objects.values("kind", "status").annotate(n=Count("id")).order_by():
        counts.setdefault(row["kind"], {})[row["status"]] = row["n"]
    labels = dict(OutboxMessage.Kind.choices)
    statuses = [value for value, _label in OutboxMessage.Status.choices]
    table = [
        {"kind": labels.get(kind, kind), "counts": [by.get(s, 0) for s in statuses]}
        for kind, by in sorted(counts.items())
    ]
    failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED)
    return {
        "statuses": [label for _value, label in OutboxMessage.Status.choices],
        "table": table,
        "failed_count": failed.count(),
        "failed": list(failed.select_related("application").order_by("-created_at")[:ROWS_SHOWN]),
        "pending": list(
            OutboxMessage.objects.filter(
                status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING)
            )
            .select_related("application")
            .order_by("created_at", "id")[:ROWS_SHOWN]
        ),
    }


def _stripe(request: HttpRequest) -> dict[str, Any]:
    week = timezone.now() - timedelta(days=7)
    return {
        "last_webhook": WebhookEvent.objects.order_by("-received_at", "-id").first(),
        "problems": list(
            WebhookEvent.objects.filter(WEBHOOK_PROBLEMS, received_at__gte=week).order_by(
                "-received_at"
            )[:ROWS_SHOWN]
        ),
        "flagged": list(
            Payment.objects.filter(flagged=True)
            .select_related("application")
            .order_by("-created_at")[:ROWS_SHOWN]
        ),
    }


def _quarantine(request: HttpRequest) -> dict[str, Any]:
    rows = open_quarantines()
    shown = list(rows[:ROWS_SHOWN])
    lodge_ids = {row.lodge_ninox_id for row in shown} - {None}
    lodges = {lodge.ninox_id: lodge for lodge in Lodge.objects.filter(ninox_id__in=lodge_ids)}
    return {
        "count": rows.count() if len(shown) == ROWS_SHOWN else len(shown),
        "every_lodge": rows.filter(lodge_ninox_id__isnull=True).exists(),
        "rows": [
            {
                "row": row,
                "lodge": lodges.get(row.lodge_ninox_id) if row.lodge_ninox_id else None,
                "any_lodge": row.lodge_ninox_id is None,
                "sentence": describe(row),
            }
            for row in shown
        ],
    }


register_health_panel(HealthPanel("ninox", "grants/health/ninox.html", _ninox, order=10))
register_health_panel(
    HealthPanel("quarantine", "grants/health/quarantine.html", _quarantine, order=15)
)
register_health_panel(HealthPanel("outbox", "grants/health/outbox.html", _outbox, order=20))
register_health_panel(HealthPanel("stripe", "grants/health/stripe.html", _stripe, order=30))


@require_POST
@require("portal.health.act")
def ninox_sync(request: HtmxHttpRequest) -> HttpResponse:
    ninox_sync_request(actor=request.user)
    messages.success(request, "A Ninox sync is queued; the worker runs it in a moment.")
    return redirect("health")


@require_POST
@require("portal.health.act")
def ninox_drift_check(request: HtmxHttpRequest) -> HttpResponse:
    drift_check_request(actor=request.user)
    messages.success(request, "A drift check is queued; the worker runs it in a moment.")
    return redirect("health")


@require_POST
@require("portal.health.act")
def outbox_retry_one(request: HtmxHttpRequest, outbox_id: int) -> HttpResponse:
    changed = outbox_retry(outbox_ids=[outbox_id], actor=request.user)
    if changed:
        messages.success(request, f"Outbox row {outbox_id} will be tried again now.")
    else:
        messages.info(request, f"Outbox row {outbox_id} is not failed (any more).")
    return redirect("health")


@require_POST
@require("portal.health.act")
def outbox_retry_failed(request: HtmxHttpRequest) -> HttpResponse:
    changed = outbox_retry(outbox_ids=None, actor=request.user)
    messages.success(request, f"{changed} failed outbox row(s) will be tried again now.")
    return redirect("health")
