"""Stripe's webhook as tests drive it: signed deliveries of Checkout Session events."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import stripe
from django.test import Client

from grants.models import Application
from grants.payments.provider import session_object

SECRET = "whsec_test_" + "a" * 24
URL = "/webhooks/stripe/"


def event_body(event_type: str, session: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(8),
            "object": "event",
            "type": event_type,
            "data": {"object": session},
        }
    )


def post(
    body: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    header: str | None = "sign",
    client: Client | None = None,
) -> Any:
    headers = {}
    if header == "sign":
        header = stripe.WebhookSignature.generate_signature_header(
            body, secret, timestamp=timestamp if timestamp is not None else int(time.time())
        )
    if header is not None:
        headers["Stripe-Signature"] = header
    return (client or Client()).post(URL, body, content_type="application/json", headers=headers)


def paid_session(
    application: Application, session_id: str | None = None, **changes: Any
) -> dict[str, Any]:
    session = session_object(
        session_id=session_id or f"cs_test_{application.reference}",
        application=application,
        payment_status="paid",
    )
    session.update(changes)
    return session
