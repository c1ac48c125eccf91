"""Payment providers: Stripe Checkout through the official SDK, or a local stand-in for dev.

``payment_provider()`` picks Stripe when ``STRIPE_SECRET_KEY`` is set, else the dev
provider, whose "checkout" is the portal's own page and whose webhooks are signed
like Stripe's and go through the same code path.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import stripe
from django.conf import settings
from django.utils import timezone

from grants.models import Application
from grants.money import to_cents
from grants.payments.signing import signature_header

CURRENCY = "usd"


@dataclass(frozen=True)
class CheckoutSession:
    """What the portal keeps of a Checkout Session."""

    id: str
    url: str
    expires_at: datetime | None
    amount_cents: int
    currency: str


class PaymentProviderUnavailable(Exception):
    """The provider could not be reached or refused the call; nothing was charged.

    The provider's own error is the ``__cause__``, for the log.
    """


@contextmanager
def _stripe_errors_as_unavailable() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as exc:
        raise PaymentProviderUnavailable(
            "Stripe could not be reached or refused the call."
        ) from exc


def idempotency_key(application: Application, attempt: int) -> str:
    """The same key for the same application and session attempt, so a retry makes no second session."""
    return f"grants-checkout-{application.reference}-{attempt}"


class PaymentProvider(Protocol):
    name: str
    # True when the lodge pays on the provider's page (``CheckoutSession.url``), False
    # when the portal's own pay page is the checkout.
    hosted_checkout: bool

    def create_checkout_session(
        self, *, application: Application, attempt: int, success_url: str, cancel_url: str
    ) -> CheckoutSession:
        """Create (or, for a repeated attempt, get back) a session for the lodge's share."""
        ...


class StripeProvider:
    """Stripe Checkout. ``http_client`` is the SDK's pluggable HTTP client (tests pass a fake)."""

    name = "stripe"
    hosted_checkout = True

    def __init__(
        self,
        api_key: str,
        *,
        http_client: stripe.HTTPClient | None = None,
        max_network_retries: int = 2,
    ) -> None:
        self.client = stripe.StripeClient(
            api_key, http_client=http_client, max_network_retries=max_network_retries
        )

    def create_checkout_session(
        self, *, application: Application, attempt: int, success_url: str, cancel_url: str
    ) -> CheckoutSession:
        reference = application.reference
        lodge = application.lodge.name if application.lodge else f"Lodge {application.lodge_number}"
        # Every parameter is derived from the application alone: Stripe refuses a reused
        # idempotency key whose parameters differ, so nothing time-dependent goes in.
        params: Any = {
            "mode": "payment",
            "client_reference_id": reference,
            "metadata": {"application_reference": reference},
            "payment_intent_data": {"metadata": {"application_reference": reference}},
            "customer_email": application.contact_email,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": CURRENCY,
                        "unit_amount": to_cents(application.amount_raised),
                        "product_data": {
                            "name": f"{lodge}: lodge share for grant {reference}",
                            "description": f"Matched by the foundation for {application.charity_name}"[
                                :500
                            ],
                        },
                    },
                }
            ],
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        with _stripe_errors_as_unavailable():
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key(application, attempt)}
            ).to_dict()
        expires = session.get("expires_at")
        return CheckoutSession(
            id=session["id"],
            url=session.get("url") or "",
            expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
            amount_cents=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or CURRENCY),
        )


class DevProvider:
    """A local stand-in for Stripe: the portal's pay page is the checkout, and paying sends
    the portal a webhook signed exactly as Stripe signs it."""

    name = "dev"
    hosted_checkout = False
    SESSION_HOURS = 24

    def create_checkout_session(
        self, *, application: Application, attempt: int, success_url: str, cancel_url: str
    ) -> CheckoutSession:
        digest = hashlib.sha256(idempotency_key(application, attempt).encode()).hexdigest()[:24]
        return CheckoutSession(
            id=f"cs_dev_{digest}",
            url="",
            expires_at=timezone.now() + timedelta(hours=self.SESSION_HOURS),
            amount_cents=to_cents(application.amount_raised),
            currency=CURRENCY,
        )

    def signed_event(
        self, *, event_type: str, session: dict[str, Any], event_id: str | None = None
    ) -> tuple[bytes, str]:
        """A Stripe-shaped event for ``session`` and its ``Stripe-Signature`` header."""
        now = int(time.time())
        event = {
            "id": event_id
            or "evt_dev_"
            + hashlib.sha256(f"{event_type}{session['id']}".encode()).hexdigest()[:24],
            "object": "event",
            "type": event_type,
            "created": now,
            "livemode": False,
            "data": {"object": session},
        }
        body = json.dumps(event, separators=(",", ":"))
        return body.encode(), signature_header(body, timestamp=now)


def session_object(
    *,
    session_id: str,
    application: Application,
    payment_status: str,
    status: str = "complete",
    payment_intent: str | None = None,
) -> dict[str, Any]:
    """A Checkout Session object as Stripe puts it in an event (for the dev provider and tests)."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": to_cents(application.amount_raised),
        "currency": CURRENCY,
        "client_reference_id": application.reference,
        "metadata": {"application_reference": application.reference},
        "payment_intent": payment_intent or "pi_" + session_id.removeprefix("cs_"),
        "payment_status": payment_status,
        "status": status,
    }


def payment_provider() -> StripeProvider | DevProvider:
    """Stripe when ``STRIPE_SECRET_KEY`` is set, else the dev provider."""
    if settings.STRIPE_SECRET_KEY:
        return StripeProvider(settings.STRIPE_SECRET_KEY)
    return DevProvider()
