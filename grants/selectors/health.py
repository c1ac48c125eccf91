"""What the grants' panels on the health page show: Ninox, quarantine, outbox and Stripe.

Each function takes the request and returns its panel's context; ``GrantsConfig.ready()``
adds them to ``portal.health_panels``. The panels' buttons are in ``grants.views.health``.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, Q, Sum
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
from ninox_backend.ninox.mirror import (
    IdleProjection,
    full_read_interval,
    sync_status,
    workspace_full_reads,
    workspace_idle_projection,
)
from ninox_backend.ninox.models import NinoxCall
from ninox_backend.ninox.quota import quota_state
from portal import health
from portal.models import ServiceCheck

RECENT_ERRORS = 10
ROWS_SHOWN = 20
# Webhook results that mean the event was not applied as a payment.
WEBHOOK_PROBLEMS = Q(result="") | Q(result__startswith="ignored:") | Q(result__startswith="flagged")


def _errors_with_resolution() -> list[dict[str, Any]]:
    """The recent failed Ninox calls, each with ``resolved_at``: the last call to the same
    endpoint that succeeded after it (None while the error stands)."""
    errors = list(
        NinoxCall.objects.filter(
            Q(status__gte=400) | Q(status__isnull=True) | ~Q(error="")
        ).order_by("-at")[:RECENT_ERRORS]
    )
    if not errors:
        return []
    latest_success = {
        (row["method"], row["path_template"]): row["last"]
        for row in NinoxCall.objects.filter(
            status__lt=400, error="", path_template__in={call.path_template for call in errors}
        )
        .values("method", "path_template")
        .annotate(last=Max("at"))
        .order_by()
    }
    rows = []
    for call in errors:
        last = latest_success.get((call.method, call.path_template))
        rows.append({"call": call, "resolved_at": last if last and last > call.at else None})
    return rows


def _ninox_attention(
    state: str,
    sync: Any,
    schema: Any,
    projection: Any,
    findings: list[Any],
    idle: IdleProjection | None = None,
) -> list[dict[str, Any]]:
    attention: list[dict[str, Any]] = []
    if state == health.NOT_YET_PROBED:
        attention.append(
            {
                "problem": "The Ninox connection has not been checked yet.",
                "todo": "The scheduler checks it within 5 minutes of starting; an admin can "
                "press “Sync now” to check at once.",
                "pending": True,
            }
        )
    elif state != "ok":
        attention.append(
            {
                "problem": f"The Ninox connection is not working ({state}).",
                "todo": "The portal works from its last copy meanwhile. Check NINOX_API_KEY and "
                "whether Ninox is up; the connection is checked again every 5 minutes.",
            }
        )
    if (
        sync
        and sync.last_error
        and (
            sync.last_sync_at is None
            or (sync.last_error_at is not None and sync.last_error_at >= sync.last_sync_at)
        )
    ):
        attention.append(
            {
                "problem": f"The last sync from Ninox failed: {sync.last_error}",
                "todo": "Once Ninox answers again, press “Sync now” (an admin) or wait for "
                "the next scheduled sync; until then new changes in Ninox are not seen.",
            }
        )
    if schema is not None and not schema.ok:
        attention.append(
            {
                "problem": "Ninox's tables or fields no longer match what the portal expects.",
                "todo": "Read the schema check below; rename the field back in Ninox or update "
                "NINOX_SCHEMA.",
            }
        )
    if projection.monthly is not None and projection.over_quota:
        attention.append(
            {
                "problem": "At this rate the portal will use more Ninox calls this month than "
                "the plan allows.",
                "todo": "Read fewer tables less often (NINOX_WORKSPACE_FULL_READ_MINUTES) or "
                "raise the plan; background syncs pause near the quota.",
            }
        )
    if idle is not None and idle.over_quota:
        attention.append(
            {
                "problem": f"Idle, the full read every {idle.full_read_every} costs about "
                f"{idle.per_month:,} Ninox calls a month, more than the plan's "
                f"{idle.quota:,} (NINOX_MONTHLY_QUOTA).",
                "todo": "Raise NINOX_WORKSPACE_FULL_READ_MINUTES to read less often (or raise "
                "the plan); background syncs pause near the quota.",
            }
        )
    if findings:
        attention.append(
            {
                "problem": f"{len(findings)} lodge(s) have grant totals that differ between "
                "the portal and Ninox; their applications go to review.",
                "todo": "Correct the grant in Ninox (or the portal), then press “Check drift now”.",
            }
        )
    return attention


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
    idle = (
        workspace_idle_projection(
            {"lodges": Lodge.objects.count(), "grants": NinoxGrant.objects.count()}
        )
        if is_workspace()
        else None
    )
    sync = sync_status()
    projection = projected_monthly_calls()
    schema = checks.get(SCHEMA_CHECK)
    return {
        "attention": _ninox_attention(state, sync, schema, projection, findings, idle),
        "state": state,
        "api": "workspace" if is_workspace() else "classic",
        "idle": idle,
        "full_read_every": full_read_interval(),
        "full_reads": workspace_full_reads(),
        "ok": state == "ok",
        "not_checked": state == health.NOT_YET_PROBED,
        "probe": checks.get("ninox"),
        "schema": schema,
        "sync": sync,
        "sync_recovered": bool(
            sync
            and sync.last_error
            and sync.last_sync_at
            and sync.last_error_at
            and sync.last_sync_at > sync.last_error_at
        ),
        "quota": quota_state(),
        "calls_today": today,
        "projection": projection,
        "drift": checks.get(DRIFT_CHECK),
        "drift_findings": findings,
        "errors": _errors_with_resolution(),
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
    failed_count = failed.count()
    attention = []
    if failed_count:
        attention.append(
            {
                "problem": f"{failed_count} email(s) or Ninox write-back(s) failed and will "
                "not be tried again by themselves.",
                "todo": "Read each one's last error below, fix its cause, then press "
                "“Retry” (an admin).",
            }
        )
    return {
        "attention": attention,
        "statuses": [label for _value, label in OutboxMessage.Status.choices],
        "table": table,
        "failed_count": failed_count,
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
    flagged = Payment.objects.filter(flagged=True)
    flagged_count = flagged.count()
    attention = []
    if flagged_count:
        attention.append(
            {
                "problem": f"{flagged_count} Stripe payment(s) are flagged for finance.",
                "todo": "Finance matches each to its application or refunds it in Stripe.",
            }
        )
    return {
        "attention": attention,
        "flagged_count": flagged_count,
        "last_webhook": WebhookEvent.objects.order_by("-received_at", "-id").first(),
        "problems": list(
            WebhookEvent.objects.filter(WEBHOOK_PROBLEMS, received_at__gte=week).order_by(
                "-received_at"
            )[:ROWS_SHOWN]
        ),
        "flagged": list(flagged.select_related("application").order_by("-created_at")[:ROWS_SHOWN]),
    }


def quarantine_panel(request: HttpRequest) -> dict[str, Any]:
    rows = open_quarantines()
    shown = list(rows[:ROWS_SHOWN])
    lodge_ids = {row.lodge_ninox_id for row in shown} - {None}
    lodges = {lodge.ninox_id: lodge for lodge in Lodge.objects.filter(ninox_id__in=lodge_ids)}
    count = rows.count() if len(shown) == ROWS_SHOWN else len(shown)
    attention = []
    if count:
        attention.append(
            {
                "problem": f"{count} value(s) read from Ninox could not be understood; the "
                "applications of the lodges they touch go to review.",
                "todo": "Correct each value in Ninox; the next sync clears it.",
            }
        )
    return {
        "attention": attention,
        "count": count,
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
