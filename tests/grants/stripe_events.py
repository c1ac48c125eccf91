"""Stripe's webhook as tests drive it: signed deliveries of Checkout Session, charge and refund events."""

from __future__ import annotations

import json
import secrets
import time
from decimal import Decimal
from typing import Any

import stripe
from django.test import Client

from grants.models import Application, Payment
from grants.money import to_cents
from grants.payments.provider import charge_object, refund_object, session_object

SECRET = "whsec_test_" + "a" * 24
URL = "/webhooks/stripe/"


def event_body(
    event_type: str,
    session: dict[str, Any],
    event_id: str | None = None,
    created: int | None = None,
) -> str:
    event: dict[str, Any] = {
        "id": event_id or "evt_" + secrets.token_hex(8),
        "object": "event",
        "type": event_type,
        "data": {"object": session},
    }
    if created is not None:
        event["created"] = created
    return json.dumps(event)


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


def charge_refunded(payment: Payment, amount_refunded: str) -> dict[str, Any]:
    """The charge of ``payment`` as ``charge.refunded`` carries it: ``amount_refunded`` so far."""
    return charge_object(payment=payment, amount_refunded_cents=to_cents(Decimal(amount_refunded)))


def refund(
    payment: Payment, refund_id: str, amount: str, status: str, **changes: Any
) -> dict[str, Any]:
    """A Refund object of ``payment`` as ``refund.created`` / ``refund.updated`` carry it."""
    made = refund_object(
        refund_id=refund_id, payment=payment, amount_cents=to_cents(Decimal(amount)), status=status
    )
    made.update(changes)
    return made
