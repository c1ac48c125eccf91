"""Ninox as it might really answer: the emulator behind a transport that changes some replies.

``use_variant(answer=…, reshape=…)`` routes the portal's Ninox calls through it for the rest
of the test: ``answer(request)`` may reply instead of the emulator (return ``None`` to pass
the request on); ``reshape(record_json)`` may change each grant record in a JSON reply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from ninox_backend.ninox.connection import build_client, use_client
from ninox_backend.types import dumps, loads

Answer = Callable[[httpx.Request], httpx.Response | None]
Reshape = Callable[[dict[str, Any]], None]


def json_reply(status: int, data: Any) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/json"}, content=dumps(data))


def body_of(request: httpx.Request) -> Any:
    return loads(request.content) if request.content else None


class VariantTransport(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, answer: Answer | None, reshape: Reshape | None):
        self.inner = inner
        self.answer = answer
        self.reshape = reshape

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None:
            request.read()
            reply = self.answer(request)
            if reply is not None:
                return reply
        response = self.inner.handle_request(request)
        if self.reshape is None or "json" not in response.headers.get("content-type", ""):
            return response
        data = loads(response.read())
        self._walk(data)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, headers=headers, content=dumps(data))

    def _walk(self, data: Any) -> None:
        assert self.reshape is not None
        if isinstance(data, list):
            for item in data:
                self._walk(item)
        elif isinstance(data, dict):
            fields = data.get("fields")
            if isinstance(fields, dict) and "Grant Date" in fields:
                self.reshape(data)
            for value in data.values():
                self._walk(value)


@pytest.fixture
def use_variant(ninox: Any) -> Iterator[Callable[..., None]]:
    with ExitStack() as stack:

        def use(*, answer: Answer | None = None, reshape: Reshape | None = None) -> None:
            client = build_client(
                transport=VariantTransport(ninox.transport, answer, reshape),
                base_url=ninox.base_url,
                token=ninox.token,
            )
            stack.callback(client.close)
            stack.enter_context(use_client(client))

        yield use
