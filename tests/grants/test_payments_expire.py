"""Expiring unpaid approvals: status, released budget, the lodge told, the audit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from grants.models import Lodge, OutboxMessage, Status
from grants.outbox import outbox_deliver
from grants.selectors.budgets import lodge_budget
from grants.tasks import payments_expire_task
from portal.models import AuditEvent
from tests.factories import ApplicationFactory
from tests.grants.stripe_events import paid_session

pytestmark = [pytest.mark.django_db, pytest.mark.db_engine]


def test_an_unpaid_approval_past_its_link_expires_and_releases_its_amount(
    fresh_lodge: Lodge,
) -> None:
    late = ApplicationFactory.create(
        approved=True,
        lodge=fresh_lodge,
        payment_expires_at=timezone.now() - timedelta(seconds=1),
    )
    current = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    before = lodge_budget(fresh_lodge.id, late.fiscal_year, Decimal("4000.00"))
    assert before.pending_portal == Decimal("400.00")
    assert payments_expire_task.delay().get() == 1
    late.refresh_from_db()
    current.refresh_from_db()
    assert late.status == Status.EXPIRED
    assert current.status == Status.APPROVED
    after = lodge_budget(fresh_lodge.id, late.fiscal_year, Decimal("4000.00"))
    assert after.pending_portal == Decimal("200.00")
    assert AuditEvent.objects.filter(
        action="application.expired", object_id=late.reference
    ).exists()
    message = OutboxMessage.objects.get(kind="email_expired")
    outbox_deliver(message.id)
    [email] = mail.outbox
    assert email.to == [late.contact_email]
    assert "expired" in email.subject


def test_expiry_runs_once(fresh_lodge: Lodge) -> None:
    ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, payment_expires_at=timezone.now() - timedelta(days=1)
    )
    assert payments_expire_task.delay().get() == 1
    assert payments_expire_task.delay().get() == 0
    assert OutboxMessage.objects.filter(kind="email_expired").count() == 1


def test_a_paid_application_never_expires(fresh_lodge: Lodge) -> None:
    paid = ApplicationFactory.create(
        paid=True, lodge=fresh_lodge, payment_expires_at=timezone.now() - timedelta(days=1)
    )
    assert payments_expire_task.delay().get() == 0
    paid.refresh_from_db()
    assert paid.status == Status.PAID


def test_a_payment_after_expiry_is_flagged_for_finance_not_paid(
    fresh_lodge: Lodge, settings: Any
) -> None:
    from grants.services.payments import payment_record_from_webhook

    late = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, payment_expires_at=timezone.now() - timedelta(days=1)
    )
    payments_expire_task.delay().get()
    late.refresh_from_db()
    result = payment_record_from_webhook(
        event={
            "id": "evt_late",
            "type": "checkout.session.completed",
            "data": {"object": paid_session(late)},
        }
    )
    assert result.startswith("flagged")
    late.refresh_from_db()
    assert late.status == Status.EXPIRED
