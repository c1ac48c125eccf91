"""An httpx transport that serves the emulator in-process, without sockets."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx

from .app import App
from .wire import ConnectionDropped, Request


class EmulatorTransport(httpx.BaseTransport):
    """Hands each httpx request to the app; a dropped connection is an httpx error."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = parse_qs(request.url.query.decode("ascii"), keep_blank_values=True)
        ours = Request(
            method=request.method.upper(),
            path=request.url.path,
            query={key: values[-1] for key, values in query.items()},
            headers={key.lower(): value for key, value in request.headers.items()},
            body=request.read(),
        )
        try:
            response = self.app.handle(ours)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        return httpx.Response(
            response.status, headers=response.headers, content=response.body, request=request
        )
