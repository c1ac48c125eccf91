"""Stripe Checkout through the SDK, with a fake behind its pluggable HTTP client (no network)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import stripe
from django.test import Client

from grants.models import Lodge, Payment
from grants.payments.provider import ProviderError, StripeProvider, idempotency_key
from grants.services.payments import checkout_start
from tests.factories import ApplicationFactory
from tests.grants.fake_stripe import RecordingStripe, Reply

pytestmark = pytest.mark.django_db


class FakeStripe(RecordingStripe):
    """Answers like Stripe, honouring idempotency keys; can fail the first calls with a 500."""

    def __init__(self, fail_first: int = 0) -> None:
        super().__init__()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.fail_first = fail_first

    def answer(
        self, method: str, url: str, headers: Mapping[str, str], form: dict[str, str]
    ) -> Reply:
        if self.fail_first:
            self.fail_first -= 1
            # Stripe made the session, but the reply was lost.
            self._session(headers["Idempotency-Key"], form)
            return b'{"error": {"type": "api_error", "message": "boom"}}', 500, {}
        session = self._session(headers["Idempotency-Key"], form)
        return json.dumps(session).encode(), 200, {"request-id": "req_fake"}

    def _session(self, key: str, form: dict[str, str]) -> dict[str, Any]:
        if key not in self.sessions:
            number = len(self.sessions) + 1
            self.sessions[key] = {
                "id": f"cs_test_fake{number}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/cs_test_fake{number}",
                "expires_at": int(time.time()) + 86400,
                "amount_total": int(form["line_items[0][price_data][unit_amount]"]),
                "currency": form["line_items[0][price_data][currency]"],
                "status": "open",
                "payment_status": "unpaid",
            }
        return self.sessions[key]


@pytest.fixture
def application(mirrored: Any) -> Any:
    return ApplicationFactory.create(approved=True, lodge=Lodge.objects.order_by("number").first())


def provider(fake: FakeStripe) -> StripeProvider:
    return StripeProvider("sk_test_fake", http_client=fake, max_network_retries=2)


@pytest.fixture
def stripe_for_the_pay_page(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., FakeStripe]:
    """Stripe configured for the pay page, answered by a fake made with these arguments."""
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"

    def install(**fake_options: Any) -> FakeStripe:
        fake = FakeStripe(**fake_options)
        monkeypatch.setattr("grants.views.pay.payment_provider", lambda: provider(fake))
        return fake

    return install


def test_a_session_is_made_for_the_share_in_cents_with_the_reference(application: Any) -> None:
    fake = FakeStripe()
    payment = checkout_start(application=application, provider=provider(fake))
    [call] = fake.calls
    assert call["url"].endswith("/v1/checkout/sessions")
    form = call["form"]
    assert form["line_items[0][price_data][unit_amount]"] == "25000"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert form["metadata[application_reference]"] == application.reference
    assert form["client_reference_id"] == application.reference
    assert form["mode"] == "payment"
    assert call["headers"]["Idempotency-Key"] == idempotency_key(application, 1)
    assert payment.checkout_url.startswith("https://checkout.stripe.com/")
    assert payment.amount == application.amount_raised


def test_a_retry_after_a_lost_reply_sends_the_same_key_and_makes_one_session(
    application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n, r=None: 0)
    fake = FakeStripe(fail_first=1)
    payment = checkout_start(application=application, provider=provider(fake))
    keys = [c["headers"]["Idempotency-Key"] for c in fake.calls]
    assert len(keys) == 2
    assert len(set(keys)) == 1
    assert len(fake.sessions) == 1
    assert Payment.objects.get().stripe_session_id == payment.stripe_session_id


def test_a_failed_call_repeated_by_the_portal_uses_the_same_key(
    application: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n, r=None: 0)
    fake = FakeStripe(fail_first=3)  # the SDK gives up after its retries
    with pytest.raises(ProviderError) as unavailable:
        checkout_start(application=application, provider=provider(fake))
    assert isinstance(unavailable.value.__cause__, stripe.APIError)
    assert unavailable.value.unsure  # no answer: the same key is used again
    assert "sk_test" not in str(unavailable.value)
    assert Payment.objects.count() == 0
    checkout_start(application=application, provider=provider(fake))
    assert len({c["headers"]["Idempotency-Key"] for c in fake.calls}) == 1
    assert len(fake.sessions) == 1


def test_one_open_link_per_application_is_reused(application: Any) -> None:
    fake = FakeStripe()
    first = checkout_start(application=application, provider=provider(fake))
    second = checkout_start(application=application, provider=provider(fake))
    assert first.id == second.id
    assert len(fake.calls) == 1


def test_a_new_session_after_the_last_one_failed_gets_a_new_key(application: Any) -> None:
    fake = FakeStripe()
    first = checkout_start(application=application, provider=provider(fake))
    Payment.objects.filter(id=first.id).update(status=Payment.Status.FAILED)
    second = checkout_start(application=application, provider=provider(fake))
    assert second.attempt == 2
    assert fake.calls[1]["headers"]["Idempotency-Key"] == idempotency_key(application, 2)


def test_opening_the_pay_link_calls_stripe_not_once(
    application: Any, stripe_for_the_pay_page: Callable[..., FakeStripe]
) -> None:
    fake = stripe_for_the_pay_page()
    for _ in range(3):  # a person, a link scanner, a preview
        response = Client().get(f"/pay/{application.payment_token}/")
        assert response.status_code == 200
        assert ">Pay</button>" in response.content.decode()
    assert fake.calls == []
    assert Payment.objects.count() == 0


def test_pressing_pay_redirects_to_stripe_checkout_with_303(
    application: Any, stripe_for_the_pay_page: Callable[..., FakeStripe]
) -> None:
    fake = stripe_for_the_pay_page()
    response = Client().post(f"/pay/{application.payment_token}/")
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/")
    again = Client().post(f"/pay/{application.payment_token}/")
    assert again["Location"] == response["Location"]
    assert len(fake.calls) == 1


def test_stripe_down_shows_a_plain_page_and_no_secret(
    application: Any,
    stripe_for_the_pay_page: Callable[..., FakeStripe],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n, r=None: 0)
    stripe_for_the_pay_page(fail_first=5)
    response = Client().post(f"/pay/{application.payment_token}/")
    assert response.status_code == 503
    text = response.content.decode()
    assert "Nothing was charged" in text
    assert "sk_test_fake" not in text
