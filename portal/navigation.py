"""The shell's navigation. Apps register their entries in ``AppConfig.ready()``; each user sees
what they may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from portal.permissions import has_permission


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    action: str
    order: int


_ITEMS: list[NavItem] = []


def register_nav(label: str, url_name: str, *, action: str, order: int = 100) -> None:
    """Add an entry; it shows for users whom ``action`` allows."""
    if any(item.url_name == url_name for item in _ITEMS):
        return
    _ITEMS.append(NavItem(label, url_name, action, order))
    _ITEMS.sort(key=lambda item: (item.order, item.label))


def nav_for(user: Any, current_path: str) -> list[dict[str, Any]]:
    entries = []
    for item in _ITEMS:
        if not has_permission(item.action, user):
            continue
        url = reverse(item.url_name)
        current = current_path == url if url == "/" else current_path.startswith(url)
        entries.append({"label": item.label, "url": url, "current": current})
    return entries
