"""Small request helpers."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails
from ipware import get_client_ip


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the one place every limit, lockout and audit entry takes it from.

    With ``PORTAL_PROXY_COUNT`` = N trusted proxies in front, each appends the address it
    got the request from to ``X-Forwarded-For``, so the client is the N-th entry from the
    right; entries further left were written by the client and are ignored. (django-ipware
    counts the proxies *after* the client in the header, hence ``N - 1``.) Without proxies,
    or when the header is missing or too short, it is ``REMOTE_ADDR``.
    """
    if request is None:
        return None
    proxies: int = getattr(settings, "PORTAL_PROXY_COUNT", 0)
    if proxies:
        address, _ = get_client_ip(
            request,
            proxy_order="left-most",
            proxy_count=proxies - 1,
            request_header_order=("HTTP_X_FORWARDED_FOR",),
            strict=False,
        )
        if address:
            return address
    return request.META.get("REMOTE_ADDR") or None


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's middleware (for type checking views)."""

    htmx: HtmxDetails


def form_error_status(invalid: bool = True) -> int:
    """The status of a page shown again with its errors: 422, or 200 when ``invalid`` is false.

    One rule for every form, htmx or not: htmx swaps a 422 because base.html's
    ``responseHandling`` says so (htmx 2 swaps no other 4xx), and a browser renders a 422
    page like any other (Rails' Turbo asks for the same status).
    """
    return 422 if invalid else 200


def results_or_page(request: HtmxHttpRequest, template: str) -> str:
    """``template``'s ``results`` partial when HTMX asks for that region (a filter, sort or
    page change swaps only the table), else the whole page."""
    return f"{template}#results" if request.htmx and request.htmx.target == "results" else template
