"""Payment providers: Stripe Checkout through the official SDK, or a local stand-in for dev.

``payment_provider()`` picks Stripe when ``STRIPE_SECRET_KEY`` is set, else the dev
provider, whose "checkout" is the portal's own page and whose webhooks are signed
like Stripe's and go through the same code path.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import stripe
from django.conf import settings
from django.utils import timezone

from grants.models import Application, Payment
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


@dataclass(frozen=True)
class RefundResult:
    """What Stripe answered to a refund: the refund, and its charge as it stands after it."""

    refund: dict[str, Any]  # Stripe's Refund object (id, amount, status, created, ...)
    charge: dict[str, Any] | None  # the Charge (amount_refunded ...), when Stripe gave it


class ProviderError(Exception):
    """Stripe (or the stand-in) refused or could not be reached; the message is safe to show.

    ``unsure``: no answer came back (a network error, Stripe's 5xx), so Stripe may have done
    it; only a refusal (``unsure`` false) means it surely did not happen.
    """

    def __init__(self, message: str, *, unsure: bool = False) -> None:
        super().__init__(message)
        self.unsure = unsure


# Stripe's answers that say the request was refused, so surely not carried out.
_REFUSALS = (
    stripe.InvalidRequestError,
    stripe.CardError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.RateLimitError,
)


def _provider_error(exc: stripe.StripeError) -> ProviderError:
    """The one error every provider call raises for Stripe's (its ``__cause__`` is Stripe's)."""
    return ProviderError(_stripe_message(exc), unsure=not isinstance(exc, _REFUSALS))


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
        """Create (or, for a repeated attempt, get back) a session for the lodge's share.
        Raises ``ProviderError`` (nothing was charged)."""
        ...

    def expire_checkout_session(self, *, session_id: str) -> bool:
        """Close an open session so it can no longer be paid; ``False`` when it was no longer
        open (paid or closed: its own event tells which). Raises ``ProviderError``."""
        ...

    def refund(
        self, *, payment: Payment, amount_cents: int, key: str, metadata: dict[str, str]
    ) -> RefundResult:
        """Refund ``amount_cents`` of ``payment``'s charge (once per ``key``). Raises ``ProviderError``."""
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
        try:
            session = self.client.v1.checkout.sessions.create(
                params=params, options={"idempotency_key": idempotency_key(application, attempt)}
            ).to_dict()
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        expires = session.get("expires_at")
        return CheckoutSession(
            id=session["id"],
            url=session.get("url") or "",
            expires_at=datetime.fromtimestamp(expires, tz=UTC) if expires else None,
            amount_cents=int(session.get("amount_total") or 0),
            currency=str(session.get("currency") or CURRENCY),
        )

    def expire_checkout_session(self, *, session_id: str) -> bool:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as exc:
            # Already paid, expired or closed: nothing left to stop (a late payment is flagged).
            if "status" in str(exc).lower():
                return False
            raise _provider_error(exc) from exc
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return True

    def refund(
        self, *, payment: Payment, amount_cents: int, key: str, metadata: dict[str, str]
    ) -> RefundResult:
        if not payment.stripe_payment_intent_id:
            raise ProviderError("The payment has no Stripe payment intent to refund.")
        params: Any = {
            "payment_intent": payment.stripe_payment_intent_id,
            "amount": amount_cents,
            "metadata": metadata,
            "expand": ["charge"],  # its amount_refunded, the cumulative truth
        }
        try:
            refund = self.client.v1.refunds.create(
                params=params, options={"idempotency_key": key}
            ).to_dict()
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        charge = refund.get("charge")
        return RefundResult(refund=refund, charge=charge if isinstance(charge, dict) else None)


def _stripe_message(exc: Any) -> str:
    """Stripe's own words for a refused request, else only the kind of failure (no key, no URL)."""
    if isinstance(exc, stripe.InvalidRequestError | stripe.CardError) and exc.user_message:
        return f"Stripe refused it: {exc.user_message}"[:300]
    return f"Stripe could not be asked ({type(exc).__name__}); try again later."


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

    def expire_checkout_session(self, *, session_id: str) -> bool:
        """Nothing to close: the dev checkout is the portal's own page, which checks the status."""
        return True

    def refund(
        self, *, payment: Payment, amount_cents: int, key: str, metadata: dict[str, str]
    ) -> RefundResult:
        """Refund at once and send the portal the signed ``charge.refunded`` Stripe would send."""
        from grants.payments.webhook import webhook_receive  # it records through the services

        refund = refund_object(
            refund_id="re_dev_" + hashlib.sha256(key.encode()).hexdigest()[:24],
            payment=payment,
            amount_cents=amount_cents,
            status="succeeded",
            metadata=metadata,
        )
        charge = charge_object(
            payment=payment, amount_refunded_cents=to_cents(payment.amount_refunded) + amount_cents
        )
        body, signature = self.signed_event(event_type="charge.refunded", session=charge)
        webhook_receive(body, signature)
        return RefundResult(refund=refund, charge=charge)

    def signed_event(
        self, *, event_type: str, session: dict[str, Any], event_id: str | None = None
    ) -> tuple[bytes, str]:
        """A Stripe-shaped event for ``session`` (or any object) and its ``Stripe-Signature``."""
        now = int(time.time())
        event = {
            "id": event_id
            or "evt_dev_"
            + hashlib.sha256(
                f"{event_type}{session['id']}{session.get('amount_refunded', '')}".encode()
            ).hexdigest()[:24],
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


def charge_id_for(payment: Payment) -> str:
    """The charge id: the one Stripe named, else one derived from the session (dev, tests)."""
    return payment.stripe_charge_id or "ch_" + payment.stripe_session_id.removeprefix("cs_")


def charge_object(*, payment: Payment, amount_refunded_cents: int) -> dict[str, Any]:
    """A Charge object as Stripe puts it in a ``charge.refunded`` event (dev provider, tests)."""
    amount = to_cents(payment.amount)
    reference = payment.application.reference if payment.application else ""
    return {
        "id": charge_id_for(payment),
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded_cents,
        "currency": payment.currency or CURRENCY,
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": {"application_reference": reference},
        "refunded": amount_refunded_cents >= amount,
        "status": "succeeded",
    }


def refund_object(
    *,
    refund_id: str,
    payment: Payment,
    amount_cents: int,
    status: str,
    metadata: dict[str, str] | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A Refund object as Stripe answers it and puts it in ``refund.*`` events."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount_cents,
        "charge": charge_id_for(payment),
        "currency": payment.currency or CURRENCY,
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": metadata or {},
        "status": status,
        "created": created if created is not None else int(time.time()),
    }


def payment_provider() -> StripeProvider | DevProvider:
    """Stripe when ``STRIPE_SECRET_KEY`` is set, else the dev provider."""
    if settings.STRIPE_SECRET_KEY:
        return StripeProvider(settings.STRIPE_SECRET_KEY)
    return DevProvider()
