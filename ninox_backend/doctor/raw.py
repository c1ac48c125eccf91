"""Plain httpx clients for the checks that need raw replies (the error body, two calls at
once) outside the client's limiter, and the base URL as it may be printed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import httpx

if TYPE_CHECKING:
    from ..client import NinoxClient

HttpFactory = Callable[[], httpx.Client]


class _Unclosed(httpx.BaseTransport):
    """A shared transport that the raw clients use but must not close."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


def raw_http_factory(client: NinoxClient) -> HttpFactory:
    """Plain httpx clients like ``client``'s (base URL, key, timeout, transport), no limiter."""
    http = client._requester._http
    transport = getattr(http, "_transport", None)
    # A default transport is a connection pool of its own: each raw client gets a new one.
    shared = None if isinstance(transport, httpx.HTTPTransport) or transport is None else transport

    def factory() -> httpx.Client:
        return httpx.Client(
            base_url=http.base_url,
            headers=http.headers,
            timeout=http.timeout,
            transport=_Unclosed(shared) if shared is not None else None,
            follow_redirects=False,
        )

    return factory


def safe_base_url(url: str) -> str:
    """The base URL without user info, query or fragment (a key must never be printed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
