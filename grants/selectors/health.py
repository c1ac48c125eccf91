"""What the grants' panels on the health page show: Ninox, quarantine, outbox and Stripe.

Each function takes the request and returns its panel's context; ``GrantsConfig.ready()``
adds them to ``portal.health_panels``. The panels' buttons are in ``grants.views.health``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from grants.drift import DRIFT_CHECK, open_findings
from grants.fiscal_year import FiscalYear
from grants.health_tasks import SCHEMA_CHECK
from grants.models import Lodge, NinoxGrant, OutboxMessage, Payment, WebhookEvent
from grants.ninox_usage import projected_monthly_calls
from grants.quarantine import describe, open_quarantines
from grants.rules import rules_in_force
from ninox_backend.ninox.connection import is_workspace
from ninox_backend.ninox.mirror import full_read_interval, sync_status, workspace_idle_budget
from ninox_backend.ninox.models import NinoxCall
from ninox_backend.ninox.quota import quota_state
from portal import health
from portal.models import ServiceCheck

RECENT_ERRORS = 10
ROWS_SHOWN = 20
# Webhook results that mean the event was not applied as a payment.
WEBHOOK_PROBLEMS = Q(result="") | Q(result__startswith="ignored:") | Q(result__startswith="flagged")


def ninox_panel(request: HttpRequest) -> dict[str, Any]:
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
    idle_per_hour = (
        workspace_idle_budget(
            {"lodges": Lodge.objects.count(), "grants": NinoxGrant.objects.count()}
        )
        if is_workspace()
        else None
    )
    return {
        "state": state,
        "api": "workspace" if is_workspace() else "classic",
        "idle_per_hour": idle_per_hour,
        "full_read_every": full_read_interval(),
        "idle_per_month": idle_per_hour * 24 * 31 if idle_per_hour is not None else None,
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


def outbox_panel(request: HttpRequest) -> dict[str, Any]:
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


def stripe_panel(request: HttpRequest) -> dict[str, Any]:
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


def quarantine_panel(request: HttpRequest) -> dict[str, Any]:
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
