"""Doc-shaped canned Ninox replies behind ``httpx.MockTransport``, for the client's tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from ninox_backend import NinoxClient, Record, RetryPolicy
from ninox_backend.types import dumps

TOKEN = "tok-CANARY-5f1e2d3c4b5a"
BASE = "https://api.test.example/v1"
DB = "/teams/t1/databases/db1"

#: The database endpoint's reply, shaped as in ninox-api.md.
SCHEMA: dict[str, Any] = {
    "settings": {"name": "Grants DB"},
    "schema": {
        "seq": 40,
        "version": 7,
        "types": {
            "A": {
                "caption": "Lodges",
                "kind": "table",
                "fields": {
                    "A": {"base": "number", "caption": "Number", "required": True},
                    "B": {"base": "string", "caption": "Name"},
                    "C": {"base": "boolean", "caption": "Active"},
                },
            },
            "B": {
                "caption": "Grants",
                "kind": "table",
                "fields": {
                    "A": {"base": "number", "caption": "Amount"},
                    "B": {"base": "date", "caption": "Grant Date"},
                    "C": {"base": "ref", "caption": "Lodge", "refTypeId": "A"},
                    "D": {
                        "base": "choice",
                        "caption": "Status",
                        "values": {"1": {"caption": "Open"}, "2": {"caption": "Paid"}},
                    },
                    "E": {"base": "multi", "caption": "Tags"},
                    "F": {"base": "timestamp", "caption": "Paid At"},
                    "G": {"base": "time", "caption": "Start"},
                    "H": {"base": "timeinterval", "caption": "Duration"},
                    "I": {"base": "appointment", "caption": "Meeting"},
                    "J": {"base": "location", "caption": "Place"},
                    "K": {"base": "string", "caption": "Reference"},
                    "L": {"base": "any", "caption": "Total", "fn": "Amount * 2"},
                    "M": {"base": "file", "caption": "Letter"},
                    "N": {"base": "color", "caption": "Colour"},
                },
            },
            "C": {"caption": "Dashboard", "kind": "page", "fields": {}},
        },
    },
}

#: The ``…/tables`` reply of a database with one table, Lodges, of one number field.
TABLES: list[dict[str, Any]] = [
    {"id": "A", "name": "Lodges", "fields": [{"id": "A", "name": "Number", "type": "number"}]}
]


def record(rid: int, seq: int = 1, **fields: Any) -> dict[str, Any]:
    """A record in the documented shape."""
    return {
        "id": rid,
        "sequence": seq,
        "createdAt": "2026-07-18T11:19:58",
        "createdBy": "u1",
        "modifiedAt": "2026-07-19T08:00:00",
        "modifiedBy": "u1",
        "fields": fields,
    }


Reply = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


def reply(status: int = 200, body: Any = None, *, text: str | None = None, **headers: str) -> Any:
    """A canned response: JSON ``body`` (Decimal-safe) or plain ``text``; kwargs are headers."""
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    if body is None:
        return httpx.Response(status, headers=headers)
    content = dumps(body).encode()
    return httpx.Response(
        status, content=content, headers={"Content-Type": "application/json", **headers}
    )


class FakeNinox:
    """Routes ``(method, path regex)`` to canned replies; records every request.

    A route's replies are used in order; the last one repeats.
    """

    def __init__(self, *, schema: bool = True) -> None:
        self.routes: list[tuple[str, re.Pattern[str], list[Reply]]] = []
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        if schema:
            self.add("GET", DB, reply(200, SCHEMA))

    def add(self, method: str, path: str, *replies: Reply) -> FakeNinox:
        pattern = re.compile(re.escape("/v1" + path) + r"\Z")
        self.routes.insert(0, (method, pattern, list(replies)))
        return self

    def add_pattern(self, method: str, pattern: str, *replies: Reply) -> FakeNinox:
        self.routes.insert(0, (method, re.compile("/v1" + pattern + r"\Z"), list(replies)))
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode().split("?")[0]
        for method, pattern, replies in self.routes:
            if method == request.method and pattern.match(path):
                item = replies.pop(0) if len(replies) > 1 else replies[0]
                if isinstance(item, Exception):
                    raise item
                if callable(item) and not isinstance(item, httpx.Response):
                    return item(request)
                return item
        return httpx.Response(404, json={"message": f"no route {request.method} {path}"})

    def client(self, **kwargs: Any) -> NinoxClient:
        kwargs.setdefault("retry", RetryPolicy(max_retries=3, total_budget=600))
        return NinoxClient(
            token=TOKEN,
            base_url=BASE,
            transport=httpx.MockTransport(self),
            sleep=self.sleeps.append,
            **kwargs,
        )

    def calls(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        """Requests sent, optionally only those with this method and path (no query)."""
        out = []
        for request in self.requests:
            request_path = request.url.raw_path.decode().split("?")[0]
            if method and request.method != method:
                continue
            if path and request_path != "/v1" + path:
                continue
            out.append(request)
        return out

    def api_calls(self) -> list[httpx.Request]:
        """Requests other than the schema read."""
        return [r for r in self.requests if r.url.raw_path.decode().split("?")[0] != "/v1" + DB]


def body(request: httpx.Request) -> Any:
    return json.loads(request.content, parse_float=Decimal)


class Mirror:
    """A sync handler that keeps the records it is given, by id (with their sequences)."""

    def __init__(self) -> None:
        self.rows: dict[int, Record] = {}

    def upsert(self, records: list[Record]) -> None:
        self.rows.update({r.id: r for r in records})

    def delete(self, ids: list[int]) -> None:
        for rid in ids:
            self.rows.pop(rid, None)

    def sequences(self) -> dict[int, int | None]:
        return {rid: r.sequence for rid, r in self.rows.items()}
