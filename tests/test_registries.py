"""Apps register their actions, pages, panels and sync handlers in ``AppConfig.ready()``.

So a process that never imports a view (a shell, a Celery worker, a management command)
sees the same permission map, navigation, dashboard and health panels, manage tabs and
mirror handlers as the web process. Each test runs a fresh Python process that only
calls ``django.setup()``, as a worker does, and reads the registries there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parent.parent
VIEW_PACKAGES = ("grants.views", "portal.views")

# What a fresh process must see; a new registration belongs here too.
EXPECTED: dict[str, list[Any]] = {
    "actions": [
        "grants.application.approve_over_cap",
        "grants.application.decide",
        "grants.application.resend",
        "grants.application.view",
        "grants.lodge.view",
        "grants.manage.rules",
        "grants.manage.tokens",
        "grants.payment.refund",
        "grants.queue.view",
        "grants.reports.view",
        "portal.health.act",
        "portal.health.view",
        "portal.home",
        "portal.manage.audit",
        "portal.manage.users",
    ],
    "navigation": [
        ["Dashboard", "home"],
        ["Review queue", "grants:queue"],
        ["Lodges", "grants:lodges"],
        ["Reports", "reports:summary"],
        ["Manage", "manage:index"],
        ["Health", "health"],
    ],
    "dashboard_panels": ["grants"],
    "health_panels": ["ninox", "quarantine", "outbox", "stripe", "workers"],
    "manage_tabs": [
        ["Users", "manage:users"],
        ["Grant rules", "grants_manage:rules"],
        ["API tokens", "grants_manage:tokens"],
        ["Audit log", "manage:audit"],
    ],
    "sync_handlers": ["lodges", "grants"],
}


def registries() -> dict[str, list[Any]]:
    """Every registry as plain data, in the order the pages show it.

    The registries keep their entries private; this test reads them directly rather
    than widen their API for it.
    """
    from ninox_backend.ninox import mirror
    from portal import dashboard, health_panels, manage, navigation, permissions

    def by_order(panels: dict[str, Any]) -> list[str]:
        return [p.name for p in sorted(panels.values(), key=lambda p: (p.order, p.name))]

    return {
        "actions": sorted(permissions.actions()),
        "navigation": [[item.label, item.url_name] for item in navigation._ITEMS],
        "dashboard_panels": by_order(dashboard._PANELS),
        "health_panels": by_order(health_panels._PANELS),
        "manage_tabs": [[label, url_name] for _order, label, url_name in manage._PAGES],
        "sync_handlers": list(mirror.registered()),
    }


PROBE = f"""
import json, sys
import django
django.setup()
from tests.test_registries import registries
views = sorted(m for m in sys.modules if m.startswith({VIEW_PACKAGES!r}))
print(json.dumps({{"registries": registries(), "view_modules": views}}))
"""


@pytest.fixture(scope="module")
def fresh_process() -> dict[str, Any]:
    """What a process that only ran ``django.setup()`` holds."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _callbacks(patterns: list[Any]) -> Iterator[Callable[..., Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def test_the_probe_process_imports_no_view(fresh_process: dict[str, Any]) -> None:
    assert fresh_process["view_modules"] == []


@pytest.mark.parametrize("registry", sorted(EXPECTED))
def test_a_process_that_never_imported_a_view_has_every_entry(
    fresh_process: dict[str, Any], registry: str
) -> None:
    assert fresh_process["registries"][registry] == EXPECTED[registry]


def test_importing_every_view_adds_nothing_to_the_registries(
    fresh_process: dict[str, Any],
) -> None:
    list(_callbacks(get_resolver().url_patterns))  # imports every view, as the web process does
    assert registries() == fresh_process["registries"]


def test_every_action_a_view_requires_is_in_the_map_without_views(
    fresh_process: dict[str, Any],
) -> None:
    required = {
        getattr(view, "permission_action", None) for view in _callbacks(get_resolver().url_patterns)
    } - {None}
    assert required, "no view declares a permission_action: the walk found nothing"
    assert required <= set(fresh_process["registries"]["actions"])
