"""Small request helpers."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the server saw it (proxies are configured in front of us)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's middleware (for type checking views)."""

    htmx: HtmxDetails
