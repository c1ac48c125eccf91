"""The grants' panel on the staff dashboard."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from grants.dashboard import dashboard_figures
from portal.dashboard import Panel, register_panel


def _context(request: HttpRequest) -> dict[str, Any]:
    return dashboard_figures(request)


register_panel(
    Panel(
        name="grants",
        template="grants/dashboard_panel.html",
        action="grants.lodge.view",
        context=_context,
        order=10,
    )
)
