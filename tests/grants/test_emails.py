"""The grants' emails: who gets what, the log, once per outbox row, and Resend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail

from grants.models import EmailLog, Lodge, OutboxMessage, Status
from grants.outbox import outbox_deliver
from grants.services.emails import email_resend
from grants.services.payments import payment_record_from_webhook
from grants.services.submit import application_submit
from portal.lib.errors import PortalError
from tests.factories import ApplicationFactory
from tests.grants.conftest import as_cleaned, valid_body
from tests.grants.stripe_events import paid_session

pytestmark = pytest.mark.django_db


def pay(application: Any) -> None:
    event = {
        "id": f"evt_{application.reference}",
        "type": "checkout.session.completed",
        "data": {"object": paid_session(application)},
    }
    payment_record_from_webhook(event=event)
    for message in OutboxMessage.objects.filter(application=application).exclude(
        kind="ninox_write_back"
    ):
        outbox_deliver(message.id)


def by_subject(fragment: str) -> Any:
    [found] = [m for m in mail.outbox if fragment in m.subject]
    return found


def test_an_approval_emails_the_lodge_its_explanation_status_and_payment_links(
    fresh_lodge: Lodge, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        application = application_submit(
            cleaned=as_cleaned(valid_body(fresh_lodge.number), lenient=False), source="api"
        )
    assert application.status == Status.APPROVED
    [email] = mail.outbox
    assert email.to == ["jo@example.org"]
    assert email.subject.startswith("Approved")
    assert f"/pay/{application.payment_token}/" in email.body
    assert "/status/" in email.body
    assert application.decisions.get().explanation in email.body
    assert email.body.endswith(
        f"{settings.FOUNDATION_NAME}\nQuestions? Write to grants@example.org.\n"
    )
    log = EmailLog.objects.get()
    assert (log.kind, log.status, log.to) == ("email_decision", "sent", "jo@example.org")


def test_the_decision_email_follows_the_decision_even_when_the_lodge_paid_before_it_was_sent(
    fresh_lodge: Lodge,
) -> None:
    # Sent after the undo window: a lodge may have paid by then (the status is "paid").
    application = application_submit(
        cleaned=as_cleaned(valid_body(fresh_lodge.number), lenient=False), source="api"
    )
    assert application.status == Status.APPROVED
    pay(application)  # also sends the decision email still queued, now that the lodge has paid
    assert (
        OutboxMessage.objects.get(application=application, kind="email_decision").status == "done"
    )
    [email] = [m for m in mail.outbox if "matching grant" in m.subject]
    assert email.subject == f"Approved: matching grant {application.reference}"
    assert "is approved" in email.body
    assert "review" not in email.body
    assert "/pay/" not in email.body  # paid: nothing left to pay


def test_a_decision_without_approval_emails_no_payment_link(
    mirrored: Any, django_capture_on_commit_callbacks: Any
) -> None:
    inactive = Lodge.objects.filter(active=False).first()
    assert inactive is not None
    with django_capture_on_commit_callbacks(execute=True):
        application = application_submit(
            cleaned=as_cleaned(valid_body(inactive.number), lenient=False), source="api"
        )
    [email] = mail.outbox
    assert application.status == Status.NEEDS_REVIEW
    assert "review" in email.subject
    assert "/pay/" not in email.body


def test_a_payment_emails_the_vendor_finance_and_the_lodge(mirrored: Any, settings: Any) -> None:
    lodge = Lodge.objects.order_by("number").first()
    application = ApplicationFactory.create(
        approved=True,
        lodge=lodge,
        reference="MG-2099-00003",
        contact_email="jo3@example.org",
        charity_name="St. John's Pantry",
    )
    pay(application)
    vendor = by_subject("Please issue")
    assert vendor.to == ["vendor@example.org"]
    assert "$450.00" in vendor.subject  # share $250.00 + match $200.00
    assert "St. John's Pantry" in vendor.body  # plain text, not HTML-escaped
    assert "$250.00" in vendor.body
    assert "$200.00" in vendor.body
    finance = by_subject("Payment received")
    assert finance.to == ["finance@example.org"]
    assert "cs_test_MG-2099-00003" in finance.body
    assert "pi_test_MG-2099-00003" in finance.body
    receipt = by_subject("Receipt")
    assert receipt.to == ["jo3@example.org"]
    assert Decimal("250.00") == application.amount_raised
    kinds = sorted(EmailLog.objects.filter(status="sent").values_list("kind", flat=True))
    assert kinds == ["email_finance", "email_lodge_receipt", "email_vendor"]
    for email in mail.outbox:
        assert "whsec" not in email.body
        assert "sk_" not in email.body


def test_a_failed_send_is_logged_and_retried_on_the_same_log_row(mirrored: Any) -> None:
    lodge = Lodge.objects.order_by("number").first()
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    event = {
        "id": "evt_x",
        "type": "checkout.session.completed",
        "data": {"object": paid_session(application)},
    }
    payment_record_from_webhook(event=event)
    message = OutboxMessage.objects.get(kind="email_vendor")
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("smtp down")
    ):
        assert outbox_deliver(message.id) == "retry"
    log = EmailLog.objects.get(outbox=message)
    assert (log.status, log.attempts) == ("failed", 1)
    OutboxMessage.objects.filter(id=message.id).update(next_attempt_at=message.created_at)
    assert outbox_deliver(message.id) == "done"
    log.refresh_from_db()
    assert (log.status, log.attempts) == ("sent", 2)
    assert EmailLog.objects.filter(outbox=message).count() == 1


def test_a_reviewer_can_resend_a_logged_email(mirrored: Any, reviewer: Any) -> None:
    lodge = Lodge.objects.order_by("number").first()
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    pay(application)
    log = EmailLog.objects.get(kind="email_vendor")
    mail.outbox.clear()
    again = email_resend(email_log=log, actor=reviewer)
    assert outbox_deliver(again.id) == "done"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["vendor@example.org"]
    assert EmailLog.objects.filter(kind="email_vendor", status="sent").count() == 2
    second = email_resend(email_log=log, actor=reviewer)
    assert second.id != again.id


def test_an_email_without_an_outbox_row_cannot_be_resent(mirrored: Any, reviewer: Any) -> None:
    log = EmailLog.objects.create(
        kind="email_vendor", to="x@example.org", subject="s", status="sent"
    )
    with pytest.raises(PortalError):
        email_resend(email_log=log, actor=reviewer)


def test_a_resent_payment_link_reaches_the_lodge(mirrored: Any, reviewer: Any) -> None:
    from grants.services.payments import payment_link_resend

    lodge = Lodge.objects.order_by("number").first()
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    message = payment_link_resend(application=application, actor=reviewer)
    assert outbox_deliver(message.id) == "done"
    [email] = mail.outbox
    assert f"/pay/{application.payment_token}/" in email.body
    assert payment_link_resend(application=application, actor=reviewer).id != message.id
