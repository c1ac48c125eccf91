"""The portal's own administration pages under ``/manage/``: staff users and the audit log.

Apps add their pages to the tabs with ``register_manage_page`` in ``AppConfig.ready()``
(portal adds users and the audit log; grants adds rules and tokens), so ``portal`` knows
no grant.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

_PAGES: list[tuple[int, str, str]] = []
# What each page is for, shown on the ``/manage/`` index.
_DESCRIPTIONS: dict[str, str] = {}


def register_manage_page(
    label: str, url_name: str, *, order: int = 100, description: str = ""
) -> None:
    if all(entry[2] != url_name for entry in _PAGES):
        _PAGES.append((order, label, url_name))
        _PAGES.sort()
    if description:
        _DESCRIPTIONS[url_name] = description


def manage_tabs(current: str) -> list[dict[str, Any]]:
    """The administration tabs, the one named ``current`` marked."""
    return [
        {"label": label, "url": reverse(url_name), "current": url_name == current}
        for _order, label, url_name in _PAGES
    ]


def manage_sections() -> list[dict[str, Any]]:
    """The administration pages with what each is for (the ``/manage/`` index)."""
    return [
        {"label": label, "url": reverse(url_name), "description": _DESCRIPTIONS.get(url_name, "")}
        for _order, label, url_name in _PAGES
    ]
