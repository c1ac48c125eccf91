"""``application_cancel``: a reviewer cancels an approved, unpaid application; its match is released."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from grants.models import Lodge, OutboxMessage, Payment, Status, WebhookEvent
from grants.payments.provider import DevProvider, StripeProvider
from grants.selectors.budgets import lodge_budget
from grants.services.payments import (
    checkout_sessions_expire,
    checkout_sessions_left_open_close,
    checkout_start,
)
from grants.services.review import application_cancel
from portal.lib.errors import PortalError
from portal.models import AuditEvent
from tests.factories import ApplicationFactory, PaymentFactory
from tests.grants.fake_stripe import FakeStripe
from tests.grants.stripe_events import SECRET, event_body, paid_session, post

CAP = Decimal("4000.00")


def test_it_cancels_an_approved_application_and_releases_its_match(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00051"
    )
    before = lodge_budget(fresh_lodge.id, application.fiscal_year, CAP)

    application_cancel(
        application=application, actor=reviewer, reason="  The event was called off "
    )

    assert application.status == Status.CANCELLED
    after = lodge_budget(fresh_lodge.id, application.fiscal_year, CAP)
    assert after.remaining - before.remaining == application.amount_requested
    event = AuditEvent.objects.get(action="application.cancelled")
    assert event.before == {"status": "approved"}
    assert event.after == {"status": "cancelled", "reason": "The event was called off"}


@pytest.mark.parametrize("status", [Status.PAID, Status.EXPIRED, Status.NEEDS_REVIEW])
def test_it_refuses_to_cancel_an_application_that_is_not_approved(
    fresh_lodge: Lodge, reviewer: Any, status: Status
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00052", status=status
    )

    with pytest.raises(PortalError, match="Only an approved, unpaid application can be cancelled"):
        application_cancel(application=application, actor=reviewer, reason="Called off")

    application.refresh_from_db()
    assert application.status == status
    assert not AuditEvent.objects.filter(action="application.cancelled").exists()


def test_it_refuses_to_cancel_while_the_lodges_payment_is_on_its_way(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    """A bank payment Stripe has not settled cannot be stopped: cancelling would leave money
    arriving for a cancelled grant. Once paid, it is refunded; if it fails, it is cancelled."""
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00057"
    )
    PaymentFactory.create(
        application=application,
        stripe_session_id="cs_test_debit",
        status=Payment.Status.PROCESSING,
        paid_at=None,
    )

    with pytest.raises(PortalError, match=r"payment of \$\d+\.\d\d is on its way"):
        application_cancel(application=application, actor=reviewer, reason="Called off")

    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert not AuditEvent.objects.filter(action="application.cancelled").exists()


def test_it_refuses_a_user_without_the_decide_permission(fresh_lodge: Lodge, finance: Any) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00053"
    )

    with pytest.raises(PortalError, match="Reviewer"):
        application_cancel(application=application, actor=finance, reason="Called off")

    application.refresh_from_db()
    assert application.status == Status.APPROVED


# ---- the payment link dies at once, and a late payment is flagged -------------------------


@pytest.fixture
def dev_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def test_cancelling_closes_the_open_checkout_kills_the_link_and_emails_the_lodge(
    fresh_lodge: Lodge, reviewer: Any, dev_stripe: None, django_capture_on_commit_callbacks: Any
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00054"
    )
    payment = checkout_start(application=application)
    assert payment.status == Payment.Status.OPEN

    with django_capture_on_commit_callbacks(execute=True):
        application_cancel(
            application=application, actor=reviewer, reason="The event was called off."
        )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    page = Client().get(f"/pay/{application.payment_token}/")
    assert "This payment link is closed" in page.content.decode()
    with pytest.raises(PortalError, match="not waiting for a payment"):
        checkout_start(application=application)
    [email] = [m for m in mail.outbox if m.to == [application.contact_email]]
    assert email.subject == "Matching grant MG-2099-00054 has been cancelled"
    assert "The event was called off." in email.body
    assert "$200.00 returns to your lodge's budget" in " ".join(email.body.split())


def test_a_late_payment_on_the_cancelled_applications_session_is_flagged_not_taken(
    fresh_lodge: Lodge, reviewer: Any, dev_stripe: None
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00055"
    )
    payment = checkout_start(application=application)
    application_cancel(application=application, actor=reviewer, reason="Called off")
    before = lodge_budget(fresh_lodge.id, application.fiscal_year, CAP)

    # Stripe could not close the session in time, and the lodge paid on it.
    response = post(
        event_body(
            "checkout.session.completed",
            paid_session(application, session_id=payment.stripe_session_id),
        )
    )

    assert response.status_code == 200
    assert response.json()["result"].startswith("flagged for finance")
    payment.refresh_from_db()
    assert payment.flagged
    assert "the application is cancelled" in payment.flag_reason
    application.refresh_from_db()
    assert application.status == Status.CANCELLED
    assert lodge_budget(fresh_lodge.id, application.fiscal_year, CAP) == before
    assert OutboxMessage.objects.filter(
        kind=OutboxMessage.Kind.EMAIL_FINANCE, application=application
    ).exists()


def test_stripes_open_session_is_expired_through_the_sdk(fresh_lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    PaymentFactory.create(
        application=application,
        stripe_session_id="cs_test_open1",
        status=Payment.Status.OPEN,
        paid_at=None,
    )
    PaymentFactory.create(
        application=application,
        stripe_session_id="cs_test_gone",
        status=Payment.Status.OPEN,
        paid_at=None,
    )
    fake = FakeStripe(closed_sessions=("cs_test_gone",))
    provider = StripeProvider("sk_test_fake", http_client=fake, max_network_retries=0)

    closed = checkout_sessions_expire(application=application, provider=provider)

    assert closed == 1
    urls = sorted(call["url"] for call in fake.calls)
    assert urls[0].endswith("/v1/checkout/sessions/cs_test_gone/expire")
    assert urls[1].endswith("/v1/checkout/sessions/cs_test_open1/expire")
    statuses = dict(Payment.objects.values_list("stripe_session_id", "status"))
    assert statuses == {"cs_test_open1": "expired", "cs_test_gone": "open"}


def test_stripe_down_leaves_the_session_to_the_webhook(fresh_lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    PaymentFactory.create(
        application=application,
        stripe_session_id="cs_test_open2",
        status=Payment.Status.OPEN,
        paid_at=None,
    )
    fake = FakeStripe(fail_with=500)
    provider = StripeProvider("sk_test_fake", http_client=fake, max_network_retries=0)

    assert checkout_sessions_expire(application=application, provider=provider) == 0
    assert Payment.objects.get(stripe_session_id="cs_test_open2").status == Payment.Status.OPEN


def test_a_cancellation_made_while_stripe_makes_the_session_closes_that_session_too(
    fresh_lodge: Lodge, reviewer: Any, dev_stripe: None
) -> None:
    """The lodge presses Pay, and a reviewer cancels while Stripe is making the session: the
    cancellation found no session to close, so the checkout closes it and sends no one to pay."""
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00056"
    )
    expired: list[str] = []

    class CancelledMeanwhile(DevProvider):
        def create_checkout_session(self, **kwargs: Any) -> Any:
            session = super().create_checkout_session(**kwargs)
            application_cancel(application=application, actor=reviewer, reason="Called off")
            return session

        def expire_checkout_session(self, *, session_id: str) -> bool:
            expired.append(session_id)
            return True

    with pytest.raises(PortalError, match="not waiting for a payment"):
        checkout_start(application=application, provider=CancelledMeanwhile())

    [payment] = Payment.objects.filter(application=application)
    assert expired == [payment.stripe_session_id]
    assert payment.status == Payment.Status.EXPIRED


def test_a_session_stripe_could_not_close_at_the_cancellation_is_closed_by_the_next_sweep(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    cancelled = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    waiting = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    for application, session in ((cancelled, "cs_test_left"), (waiting, "cs_test_wait")):
        PaymentFactory.create(
            application=application,
            stripe_session_id=session,
            status=Payment.Status.OPEN,
            paid_at=None,
            provider="stripe",
        )
    down = StripeProvider(
        "sk_test_fake", http_client=FakeStripe(fail_with=500), max_network_retries=0
    )
    application_cancel(application=cancelled, actor=reviewer, reason="Called off")
    assert checkout_sessions_expire(application=cancelled, provider=down) == 0

    fake = FakeStripe()
    up = StripeProvider("sk_test_fake", http_client=fake, max_network_retries=0)
    assert checkout_sessions_left_open_close(provider=up) == 1

    assert [call["url"].rsplit("/", 2)[-2] for call in fake.calls] == ["cs_test_left"]
    statuses = dict(Payment.objects.values_list("stripe_session_id", "status"))
    assert statuses == {"cs_test_left": "expired", "cs_test_wait": "open"}
    assert checkout_sessions_left_open_close(provider=up) == 0


def test_the_dev_checkout_left_open_in_a_browser_cannot_pay_a_closed_session(
    fresh_lodge: Lodge, reviewer: Any, dev_stripe: None
) -> None:
    """As on Stripe's page, a session closed by the cancellation takes no payment."""
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00058"
    )
    payment = checkout_start(application=application)
    application_cancel(application=application, actor=reviewer, reason="Called off")

    response = Client().post(
        f"/pay/{application.payment_token}/dev/",
        {"session": payment.stripe_session_id, "attempt": payment.attempt},
    )

    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.flagged) == (Payment.Status.EXPIRED, False)
    assert not WebhookEvent.objects.exists()
