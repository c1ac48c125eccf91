"""Once paid, the lodge's page, its pay link and its email are a receipt worth keeping."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from grants.models import OutboxMessage
from grants.outbox import outbox_deliver
from grants.selectors.applications import application_for_status_token, status_url
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

PRINT_CSS = Path(settings.BASE_DIR) / "static" / "portal" / "print.css"


@pytest.fixture
def paid(db: Any) -> Any:
    # Paid at 03:30 UTC, the evening before in Chicago: the receipt shows the local date.
    paid_at = (timezone.now() - timedelta(days=3)).replace(hour=3, minute=30)
    return ApplicationFactory.create(
        paid=True,
        paid_at=paid_at,
        amount_raised=Decimal("1250.00"),
        amount_requested=Decimal("1000.00"),
        charity_name="Hospice at Home",
        lodge__name="Harmony Lodge",
    )


def local_date(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "M j, Y")  # the portal's one format


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def assert_is_a_receipt(text: str, application: Any) -> None:
    for fact in (
        f"Receipt {application.reference}",
        f"Receipt number {application.reference}",
        f"Date paid {local_date(application.paid_at)}",
        "Lodge Harmony Lodge",
        "Lodge's share paid $1,250.00",
        "Foundation's match $1,000.00",
        "Gift to Hospice at Home $2,250.00",
        "What happens next",
        "issues the combined gift of $2,250.00 to Hospice at Home",
    ):
        assert fact in text, fact
    payment = application.payments.get()
    for identifier in (payment.stripe_session_id, payment.stripe_payment_intent_id):
        assert identifier not in text
    assert not re.search(r"\b(pi|cs)_(test|live|dev)_", text)


def test_the_status_page_of_a_paid_application_is_a_receipt(paid: Any) -> None:
    response = Client().get(status_url(paid).removeprefix(settings.PORTAL_BASE_URL))
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert "Paid: thank you" in text
    assert_is_a_receipt(text, paid)
    # The approval's explanation is not repeated once the lodge has paid.
    assert "has used" not in text


def test_the_pay_link_once_paid_shows_the_same_receipt(paid: Any) -> None:
    response = Client().get(f"/pay/{paid.payment_token}/")
    assert response.status_code == 200
    text = visible_text(response.content.decode())
    assert f"share of $1,250.00 on {local_date(paid.paid_at)}" in text
    assert_is_a_receipt(text, paid)


def test_an_unpaid_application_shows_no_receipt(db: Any) -> None:
    approved = ApplicationFactory.create(approved=True)
    text = visible_text(
        Client().get(status_url(approved).removeprefix(settings.PORTAL_BASE_URL)).content.decode()
    )
    assert "Receipt" not in text
    assert "Date paid" not in text


def test_the_receipt_pages_carry_a_print_stylesheet_that_leaves_only_the_receipt(
    paid: Any,
) -> None:
    for path in (
        status_url(paid).removeprefix(settings.PORTAL_BASE_URL),
        f"/pay/{paid.payment_token}/",
    ):
        html = Client().get(path).content.decode()
        assert re.search(
            r'<link rel="stylesheet" href="[^"]*portal/print\.css" media="print">', html
        )
        assert 'class="no-print"' in html
    css = PRINT_CSS.read_text()
    hidden = re.search(r"([^{}]+)\{\s*display:\s*none", css)
    assert hidden is not None
    for selector in (".no-print", "#portal-nav", ".button", ".skip-to-content-link"):
        assert selector in hidden.group(1), selector
    assert "break-inside: avoid" in css  # the receipt's table never splits across pages


def test_the_receipt_email_says_what_the_receipt_page_says(paid: Any) -> None:
    from grants.outbox import outbox_enqueue

    message = outbox_enqueue(
        kind=OutboxMessage.Kind.EMAIL_LODGE_RECEIPT,
        dedupe_key=f"email_lodge_receipt:{paid.reference}",
        application=paid,
        payload={"application_id": paid.id},
    )
    assert message is not None
    assert outbox_deliver(message.id) == "done"
    [sent] = mail.outbox
    email: Any = sent  # an EmailMultiAlternatives: text and HTML
    assert email.to == [paid.contact_email]
    plain = re.sub(r" {2,}", " ", email.body)
    html = visible_text(email.alternatives[0][0])
    for text in (plain.replace(":", ""), html):
        for fact in (
            f"Receipt number {paid.reference}",
            f"Date paid {local_date(paid.paid_at)}",
            "Lodge's share paid $1,250.00",
            "Foundation's match $1,000.00",
            "Gift to Hospice at Home $2,250.00",  # as the receipt page names it
            "issues the combined gift of $2,250.00 to Hospice at Home",
        ):
            assert fact in text, fact
        payment = paid.payments.get()
        assert payment.stripe_payment_intent_id not in text
        assert payment.stripe_session_id not in text
    # The link's token carries the second it was signed in, so compare what it opens, not its text.
    link = re.search(re.escape(settings.PORTAL_BASE_URL) + r"/status/([^/\s]+)/", email.body)
    assert link is not None
    assert application_for_status_token(link.group(1)) == paid
