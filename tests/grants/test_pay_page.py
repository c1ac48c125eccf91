"""The payment link with the dev provider: Pay starts the stand-in checkout, a failure, closed links."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from grants.models import EmailLog, Lodge, Payment, Status, WebhookEvent
from grants.payments.signing import dev_webhook_secret, webhook_secrets
from ninox_backend.ninox.connection import database
from tests.factories import ApplicationFactory


@pytest.fixture(autouse=True)
def dev_provider(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = None


@pytest.fixture
def application(mirrored: Any) -> Any:
    return ApplicationFactory.create(approved=True, lodge=Lodge.objects.order_by("number").first())


def press_pay(client: Client, application: Any) -> Any:
    """Open the link, then press its Pay button (with the page's CSRF token)."""
    page = client.get(f"/pay/{application.payment_token}/")
    return client.post(
        f"/pay/{application.payment_token}/",
        {"csrfmiddlewaretoken": str(page.context["csrf_token"])},
    )


@pytest.mark.django_db
def test_opening_the_link_shows_the_amount_and_a_pay_button_and_starts_no_checkout(
    application: Any,
) -> None:
    client = Client()
    for _ in range(3):  # the lodge, an email link scanner, a chat preview
        response = client.get(f"/pay/{application.payment_token}/")
        assert response.status_code == 200
    text = response.content.decode()
    assert "$250.00" in text
    assert application.lodge.name in text
    assert application.reference in text
    assert f'<form method="post" action="/pay/{application.payment_token}/"' in text
    assert ">Pay</button>" in text
    assert "Simulate a failed payment" not in text
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_pressing_pay_without_the_pages_csrf_token_starts_nothing(application: Any) -> None:
    response = Client(enforce_csrf_checks=True).post(f"/pay/{application.payment_token}/")
    assert response.status_code == 403
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_pressing_pay_shows_the_dev_checkout_with_pay_and_fail_forms(application: Any) -> None:
    response = press_pay(Client(enforce_csrf_checks=True), application)
    assert response.status_code == 200
    text = response.content.decode()
    assert "$250.00" in text
    assert application.reference in text
    assert ">Pay</button>" in text
    assert "Simulate a failed payment" in text
    assert "style=" not in text  # CSP: no inline styles
    assert "<script>" not in text
    assert dev_webhook_secret() not in text
    payment = Payment.objects.get()
    assert payment.provider == "dev"
    # No Stripe identifier in the page a lodge sees, not even in a hidden field.
    assert payment.stripe_session_id not in text
    assert not re.search(r"\b(cs|pi)_", text)


@pytest.mark.django_db(transaction=True)
def test_paying_on_the_dev_page_goes_through_the_signed_webhook_to_ninox(application: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    checkout = press_pay(client, application)
    token = checkout.context["csrf_token"]
    attempt = Payment.objects.get().attempt
    response = client.post(
        f"/pay/{application.payment_token}/dev/",
        {"attempt": attempt, "outcome": "paid", "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Status.PAID
    assert WebhookEvent.objects.get().type == "checkout.session.completed"
    assert application.ninox_record_id is not None
    record = database().table("Grants").get(application.ninox_record_id)
    assert record.fields["Reference"] == application.reference
    kinds = set(EmailLog.objects.filter(status="sent").values_list("kind", flat=True))
    assert kinds == {"email_vendor", "email_finance", "email_lodge_receipt"}
    assert len(mail.outbox) == 3
    done = client.get(response["Location"])
    assert "Paid: thank you" in done.content.decode()


@pytest.mark.django_db
def test_a_simulated_failure_leaves_the_link_open_to_try_again(application: Any) -> None:
    client = Client()
    press_pay(client, application)
    attempt = Payment.objects.get().attempt
    client.post(f"/pay/{application.payment_token}/dev/", {"attempt": attempt, "outcome": "failed"})
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    page = client.get(f"/pay/{application.payment_token}/")
    assert "The last payment attempt failed" in page.content.decode()
    assert ">Pay</button>" in page.content.decode()
    assert Payment.objects.count() == 1  # opening the page again started nothing
    press_pay(client, application)
    assert Payment.objects.count() == 2  # a fresh session for the next try


@pytest.mark.django_db
def test_the_dev_endpoint_is_gone_when_stripe_is_configured(
    application: Any, settings: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    response = Client().post(f"/pay/{application.payment_token}/dev/", {"outcome": "paid"})
    assert response.status_code == 404
    assert webhook_secrets() == ["whsec_x"]


@pytest.mark.django_db
def test_an_expired_link_says_so_and_starts_no_checkout(application: Any) -> None:
    application.payment_expires_at = timezone.now() - timedelta(minutes=1)
    application.save()
    response = Client().get(f"/pay/{application.payment_token}/")
    assert "This payment link has expired" in response.content.decode()
    pressed = Client().post(f"/pay/{application.payment_token}/")
    assert "This payment link has expired" in pressed.content.decode()
    assert Payment.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "heading"),
    [
        (Status.CANCELLED, "This payment link is closed"),
        (Status.EXPIRED, "has expired"),
        (Status.PAID, "Paid: thank you"),
    ],
)
def test_a_closed_link_shows_a_clear_page(application: Any, status: str, heading: str) -> None:
    application.status = status
    application.save()
    response = Client().get(f"/pay/{application.payment_token}/")
    assert response.status_code == 200
    assert heading in response.content.decode()


@pytest.mark.django_db
def test_coming_back_from_checkout_before_the_webhook_does_not_charge_again(
    application: Any,
) -> None:
    response = Client().get(f"/pay/{application.payment_token}/?checkout=done")
    assert "being confirmed" in response.content.decode()
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_payment_link_gets_a_public_page_that_says_what_to_do(
    mirrored: Any, settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Grants <grants@lodge-foundation.example>"
    response = Client().get("/pay/nothing-here/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This payment link does not work" in page
    assert "mailto:grants@lodge-foundation.example" in page
    assert "/login/" not in page  # a lodge is never sent to the staff login


@pytest.mark.django_db
def test_an_unknown_status_link_gets_a_public_page_that_says_what_to_do() -> None:
    response = Client().get("/status/nothing-here/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This status link does not work" in page
    assert "/apply/" in page
    assert "/login/" not in page


@pytest.mark.django_db
def test_the_generated_dev_secret_is_kept_private(settings: Any) -> None:
    secret = dev_webhook_secret()
    path = settings.PORTAL_DATA_DIR / "dev-webhook-secret"
    assert path.stat().st_mode & 0o077 == 0
    assert dev_webhook_secret() == secret


@pytest.mark.django_db
def test_the_public_pages_name_the_foundation_in_the_header_and_footer(settings: Any) -> None:
    settings.FOUNDATION_NAME = "Prairie Masonic Foundation"
    settings.DEFAULT_FROM_EMAIL = "Grants <grants@prairie.example>"
    page = Client().get("/apply/").content.decode()
    assert page.count("Prairie Masonic Foundation") >= 2  # the header and the footer
    assert 'href="mailto:grants@prairie.example"' in page
