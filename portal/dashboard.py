"""Panels on the signed-in home page. Apps register theirs in ``AppConfig.ready()``; each user
sees what they may."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from portal.permissions import has_permission


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    action: str
    context: Callable[[HttpRequest], dict[str, Any]]
    order: int = 100


_PANELS: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _PANELS[panel.name] = panel


def panels_for(request: HttpRequest) -> list[dict[str, Any]]:
    """The panels the user may see, each with its template and context."""
    shown = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        if has_permission(panel.action, request.user):
            shown.append({"name": panel.name, "template": panel.template, **panel.context(request)})
    return shown
