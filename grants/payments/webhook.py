"""Receiving a Stripe webhook: verify the signature over the raw body, parse, hand on.

Nothing here calls out: the payments service records the event and its effects in
one transaction, and the outbox carries the effects out afterwards.
"""

from __future__ import annotations

from typing import Any

import stripe

from grants.payments.signing import webhook_secrets
from portal.lib.jsonbody import JsonBodyError, json_loads

TOLERANCE_SECONDS = 300


class WebhookRejected(Exception):
    """The delivery is unsigned, mis-signed, stale or malformed: answer 400, store nothing."""


def verified_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in ``payload`` once its ``Stripe-Signature`` checks out with a configured secret."""
    if not signature:
        raise WebhookRejected("Missing Stripe-Signature header.")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("The body is not UTF-8.") from None
    for secret in webhook_secrets():
        try:
            stripe.WebhookSignature.verify_header(
                text, signature, secret, tolerance=TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError:
            continue
        break
    else:
        # One message for every failure: the reason would help only someone forging.
        raise WebhookRejected("The signature does not match, or is too old.")
    try:
        # Only now: the signature was checked on the raw bytes. Read as Stripe's own library
        # reads (NaN allowed): an odd amount in a signed event is flagged for finance.
        event = json_loads(text, allow_constants=True)
    except JsonBodyError as exc:
        raise WebhookRejected(exc.message) from None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        raise WebhookRejected("The body is not a Stripe event.")
    return event


def webhook_receive(payload: bytes, signature: str | None) -> str:
    """Verify and record one delivery; returns what was done. Raises ``WebhookRejected``."""
    from grants.services.payments import payment_record_from_webhook

    event = verified_event(payload, signature)
    return payment_record_from_webhook(event=event)
