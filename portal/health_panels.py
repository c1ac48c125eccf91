"""Panels on the health page. Apps register theirs in ``AppConfig.ready()`` (portal: the
workers; grants: Ninox, quarantine, outbox, Stripe).

Everyone who may read the health page sees every panel; ``can_act`` says whether the
user may press its buttons (``portal.health.act``, Admin).
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
    """Each registered panel with its template and context; ``can_act`` for the buttons."""
    can_act = bool(has_permission("portal.health.act", request.user))
    return [
        {"name": p.name, "template": p.template, "can_act": can_act, **p.context(request)}
        for p in sorted(_PANELS.values(), key=lambda p: (p.order, p.name))
    ]


def workers_panel(request: HttpRequest) -> dict[str, Any]:
    now = timezone.now()
    checks = {c.name: c for c in ServiceCheck.objects.filter(name__in=("worker", "beat"))}
    rows = []
    for name, label, how in (
        ("worker", "Celery worker", "celery -A portal worker"),
        ("beat", "Celery beat", "celery -A portal beat"),
    ):
        check = checks.get(name)
        late = check is None or now - check.checked_at > HEARTBEAT_LATE
        rows.append(
            {
                "label": label,
                "seen": check.checked_at if check else None,
                "age": now - check.checked_at if check else None,
                "late": late,
                "how": how,
            }
        )
    return {"workers": rows, "late_after_minutes": int(HEARTBEAT_LATE.total_seconds() // 60)}
