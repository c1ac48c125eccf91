"""Panels on the health page. Apps register theirs in ``AppConfig.ready()`` (portal: the
workers; grants: Ninox, quarantine, outbox, Stripe).

Everyone who may read the health page sees every panel; ``can_act`` says whether the
user may press its buttons (``portal.health.act``, Admin).

A panel's context may carry ``attention``: a list of ``{"problem": …, "todo": …}``, each a
thing an operator must act on and what to do. The page's banner counts and lists them, each
linking to its panel (``#h-<name>``); no item means "All systems working". An item with
``"pending": True`` is a part not checked yet (right after a start): the banner lists it
apart, as neither working nor failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from portal.models import ServiceCheck
from portal.permissions import has_permission

# A heartbeat older than this means the worker or beat is not running.
HEARTBEAT_LATE = timedelta(minutes=5)


@dataclass(frozen=True)
class HealthPanel:
    name: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, HealthPanel] = {}


def register_health_panel(panel: HealthPanel) -> None:
    _PANELS[panel.name] = panel


def health_panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    """Each registered panel with its template and context; ``can_act`` for the buttons,
    ``anchor`` for the banner's links and ``attention`` (empty when all is well)."""
    can_act = bool(has_permission("portal.health.act", request.user))
    return [
        {
            "name": p.name,
            "template": p.template,
            "can_act": can_act,
            "anchor": f"h-{p.name}",
            "attention": [],
            **p.context(request),
        }
        for p in sorted(_PANELS.values(), key=lambda p: (p.order, p.name))
    ]


def attention_items(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every panel's things that need attention, in panel order, each with its anchor."""
    return [{"anchor": panel["anchor"], **item} for panel in panels for item in panel["attention"]]


def split_pending(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the items that need attention, the parts not checked yet)."""
    return (
        [item for item in items if not item.get("pending")],
        [item for item in items if item.get("pending")],
    )


def workers_panel(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    checks = {c.name: c for c in ServiceCheck.objects.filter(name__in=("worker", "beat"))}
    rows = []
    attention = []
    for name, label, how, waits in (
        (
            "worker",
            "Background worker",
            "celery -A portal worker",
            "emails, Ninox write-backs and syncs wait until it runs",
        ),
        (
            "beat",
            "Scheduler",
            "celery -A portal beat",
            "nothing periodic runs (syncs, checks, reminders, the digest)",
        ),
    ):
        check = checks.get(name)
        late = check is None or now - check.checked_at > HEARTBEAT_LATE
        if late:
            attention.append(
                {
                    "problem": f"The {label.lower()} is not running"
                    + (" (no heartbeat yet)." if check is None else " (its heartbeat is late)."),
                    "todo": f"Start it with “{how}”: {waits}.",
                }
            )
        rows.append(
            {
                "label": label,
                "seen": check.checked_at if check else None,
                "age": now - check.checked_at if check else None,
                "late": late,
                "how": how,
            }
        )
    return {
        "workers": rows,
        "late_after_minutes": int(HEARTBEAT_LATE.total_seconds() // 60),
        "attention": attention,
    }
