"""The WSGI application: routing under ``/v1``, auth, faults, errors in the dialect.

Every error is answered with its status and a message: ``{"message": "..."}`` in the
``legacy`` dialect, plain text in ``docs``, ``{"error": {"message": "..."}}`` in
``workspace`` (whose routes live under ``/api/v1/workspace``, and ``/v1`` is 404). Handlers live in :mod:`.api`; this module
only turns WSGI into :class:`Request` / :class:`Response`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from .dialects import DOCS, WORKSPACE, check_dialect
from .errors import ApiError, NotFound, Unauthorized
from .faults import Faults
from .store import Store
from .wire import REASONS, Request, Response

StartResponse = Callable[..., Any]

Handler = Callable[..., Any]


class App:
    """The WSGI callable serving the Ninox API from a :class:`Store`."""

    classic_prefix = "/v1"
    workspace_prefix = "/api/v1/workspace"

    def __init__(
        self, store: Store, tokens: Iterable[str], faults: Faults, dialect: str = DOCS
    ) -> None:
        from .api import routes  # api imports this module's Request/Response
        from .workspace import workspace_routes

        self.dialect = check_dialect(dialect)
        self.store = store
        self.tokens = set(tokens)
        self.faults = faults
        self.calls = 0
        self._calls_lock = threading.Lock()
        self._classic_routes = _compile(routes())
        self._workspace_routes = _compile(workspace_routes())

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = _request(environ)
        response = self.handle(request)
        reason = REASONS.get(response.status, "Status")
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(f"{response.status} {reason}", headers)
        return [response.body]

    @property
    def docs(self) -> bool:
        """True when answering in the ``docs`` dialect."""
        return self.dialect == DOCS

    @property
    def workspace(self) -> bool:
        """True when serving the workspace API instead of the classic one."""
        return self.dialect == WORKSPACE

    @property
    def prefix(self) -> str:
        return self.workspace_prefix if self.workspace else self.classic_prefix

    @property
    def _routes(self) -> list[tuple[str, list[str], Handler, bool]]:
        return self._workspace_routes if self.workspace else self._classic_routes

    def handle(self, request: Request) -> Response:
        """Serve one request; may raise :class:`ConnectionDropped` (a fault)."""
        response = self._handle(request)
        if self.docs:
            return response.as_text()
        return response.as_error_object() if self.workspace else response

    def _handle(self, request: Request) -> Response:
        if not request.path.startswith(self.prefix + "/") and request.path != self.prefix:
            return Response.error(
                404, f"no such path {request.path!r}; the API is under {self.prefix}"
            )
        with self._calls_lock:
            self.calls += 1
        if not self.faults.enter():
            return self.faults.parallel_response()
        try:
            early = self.faults.before()
            if early is not None:
                return early
            response, write = self._dispatch(request)
            return self.faults.after(response, write)
        finally:
            self.faults.exit()

    def _dispatch(self, request: Request) -> tuple[Response, bool]:
        try:
            self._authenticate(request)
            handler, params, write = self._route(request)
            result = handler(self, request, **params)
        except ApiError as exc:
            return Response.error(exc.status, exc.message), False
        except Exception as exc:  # a bug in the emulator must still answer like a server
            return Response.error(500, f"emulator error: {type(exc).__name__}: {exc}"), False
        if isinstance(result, Response):
            return result, write and result.status < 300
        return Response.json(result), write

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise Unauthorized("missing Authorization header (Bearer <API key>)")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise Unauthorized("invalid API key")

    def _route(self, request: Request) -> tuple[Handler, dict[str, str], bool]:
        parts = [p for p in request.path[len(self.prefix) :].split("/") if p]
        allowed: list[str] = []
        for method, pattern, handler, write in self._routes:
            params = _match(pattern, parts)
            if params is None:
                continue
            if method == request.method:
                return handler, params, write
            allowed.append(method)
        if allowed:
            raise ApiError(f"method {request.method} not allowed here", 405)
        raise NotFound(f"no such path {request.path!r}")


def _compile(
    table: list[tuple[str, str, Handler, bool]],
) -> list[tuple[str, list[str], Handler, bool]]:
    return [
        (method, pattern.strip("/").split("/"), handler, write)
        for method, pattern, handler, write in table
    ]


def _match(pattern: list[str], parts: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(parts):
        return None
    params: dict[str, str] = {}
    for want, got in zip(pattern, parts, strict=True):
        if want.startswith("{"):
            params[want[1:-1]] = got
        elif want != got:
            return None
    return params


def _request(environ: dict[str, Any]) -> Request:
    # WSGI hands the decoded path as latin-1 text; re-read it as UTF-8.
    raw_path = environ.get("PATH_INFO", "/")
    try:
        path = raw_path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        path = raw_path
    query = {
        k: v[-1]
        for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
    }
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    return Request(environ.get("REQUEST_METHOD", "GET").upper(), path, query, headers, body)
