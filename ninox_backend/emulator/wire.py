"""Request and response values shared by the app, the API handlers and the faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import jsonutil
from .errors import BadRequest


class ConnectionDropped(Exception):
    """Raised by the app to make the server close the connection without a reply."""


REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON (decimals exact); 400 when it is not JSON."""
        if not self.body:
            raise BadRequest("request body is empty, JSON expected")
        try:
            return jsonutil.loads(self.body)
        except ValueError as exc:
            raise BadRequest(f"request body is not valid JSON: {exc}") from None
        except RecursionError:  # Python's parser recurses once per level
            raise BadRequest("request body is not valid JSON: nested too deeply") from None

    def flag(self, name: str) -> bool:
        return self.query.get(name, "false").lower() in ("", "1", "true", "yes")


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: the message of an error reply, so the app can render it in its dialect
    message: str | None = None

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        body = jsonutil.dumps(value).encode("utf-8")
        return cls(status, body, [("Content-Type", "application/json; charset=utf-8")])

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        """An error as ``{"message": ...}``; the docs dialect turns it into plain text."""
        response = cls.json({"message": message}, status)
        response.message = message
        return response

    @classmethod
    def text(cls, status: int, message: str) -> Response:
        """A plain-text error reply."""
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        return cls(status, message.encode("utf-8"), headers, message)

    def as_text(self) -> Response:
        """This error reply with a plain-text body (other headers, e.g. Retry-After, kept)."""
        if self.message is None:
            return self
        plain = Response.text(self.status, self.message)
        kept = [(k, v) for k, v in self.headers if k.lower() != "content-type"]
        plain.headers = [*plain.headers, *kept]
        return plain

    def as_error_object(self) -> Response:
        """This error reply as the workspace API's ``{"error": {"message": ...}}``."""
        if self.message is None:
            return self
        shaped = Response.json({"error": {"message": self.message}}, self.status)
        shaped.message = self.message
        kept = [(k, v) for k, v in self.headers if k.lower() != "content-type"]
        shaped.headers = [*shaped.headers, *kept]
        return shaped
