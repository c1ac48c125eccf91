"""A fake Stripe behind the SDK's pluggable HTTP client: refunds and session expiry (no network).

It answers as Stripe does: a refund with its charge expanded (``amount_refunded`` adds up
per payment intent, a repeated idempotency key gets the first answer back), and an expired
session, or Stripe's refusal for a session that is no longer open.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import stripe

Reply = tuple[bytes, int, Mapping[str, str]]


class RecordingStripe(stripe.HTTPClient):
    """The SDK's HTTP client seam: each call is recorded (``calls``, the form decoded) and
    answered by the subclass's :meth:`answer`. No network."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> Reply:
        assert headers is not None
        form = {k: v[0] for k, v in parse_qs(post_data or "").items()}
        self.calls.append({"method": method, "url": url, "headers": dict(headers), "form": form})
        return self.answer(method, url, headers, form)

    def answer(
        self, method: str, url: str, headers: Mapping[str, str], form: dict[str, str]
    ) -> Reply:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FakeStripe(RecordingStripe):
    def __init__(
        self, *, closed_sessions: tuple[str, ...] = (), fail_with: int | None = None
    ) -> None:
        super().__init__()
        self.answers: dict[str, dict[str, Any]] = {}
        self.refunded: dict[str, int] = {}
        self.closed_sessions = set(closed_sessions)
        self.fail_with = fail_with

    def answer(
        self, method: str, url: str, headers: Mapping[str, str], form: dict[str, str]
    ) -> Reply:
        if self.fail_with is not None:
            error = {"error": {"type": "api_error", "message": "Stripe is down"}}
            return json.dumps(error).encode(), self.fail_with, {}
        if url.endswith("/v1/refunds"):
            key = headers.get("Idempotency-Key", "")
            if key not in self.answers:
                self.answers[key] = self._refund(form)
            return json.dumps(self.answers[key]).encode(), 200, {"request-id": "req_fake"}
        if url.endswith("/expire"):
            session_id = url.rsplit("/", 2)[-2]
            if session_id in self.closed_sessions:
                error = {
                    "error": {
                        "type": "invalid_request_error",
                        "message": 'Only Checkout Sessions with a status in ["open"] can be expired.',
                    }
                }
                return json.dumps(error).encode(), 400, {}
            self.closed_sessions.add(session_id)
            body = {"id": session_id, "object": "checkout.session", "status": "expired"}
            return json.dumps(body).encode(), 200, {}
        return b'{"error": {"type": "invalid_request_error", "message": "unknown"}}', 404, {}

    def _refund(self, form: dict[str, str]) -> dict[str, Any]:
        intent = form["payment_intent"]
        amount = int(form["amount"])
        self.refunded[intent] = self.refunded.get(intent, 0) + amount
        number = len(self.answers) + 1
        return {
            "id": f"re_fake{number}",
            "object": "refund",
            "amount": amount,
            "status": "succeeded",
            "payment_intent": intent,
            "created": int(time.time()),
            "metadata": {
                k.removeprefix("metadata[").removesuffix("]"): v
                for k, v in form.items()
                if k.startswith("metadata[")
            },
            "charge": {
                "id": "ch_fake",
                "object": "charge",
                "amount_refunded": self.refunded[intent],
                "payment_intent": intent,
            },
        }
