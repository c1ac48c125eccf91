"""Payments: starting a checkout, recording what Stripe reports, expiring unpaid approvals.

The webhook's service, ``payment_record_from_webhook``, writes the event id, the
``Payment``, the status change, the audit event and the outbox rows in one
transaction and calls nothing outside the database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from grants.models import Application, OutboxMessage, Payment, Status, WebhookEvent
from grants.money import format_money, from_cents, to_cents
from grants.outbox import outbox_enqueue
from grants.payments.provider import CURRENCY, PaymentProvider, ProviderError, payment_provider
from grants.selectors.applications import pay_link
from grants.services import refunds
from portal.audit import audit_record
from portal.lib.errors import PortalError

logger = logging.getLogger("grants.payments")

WEBHOOK = "stripe webhook"
EXPIRY = "payment expiry"
Kind = OutboxMessage.Kind
PStatus = Payment.Status

# A session closer than this to its end is not offered again: the lodge needs time to pay.
REUSE_MARGIN = timedelta(minutes=10)

PAID_EVENTS = {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
HANDLED_EVENTS = PAID_EVENTS | {
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
# Refunds (grants.services.refunds): the charge's cumulative amount, and each refund's status.
CHARGE_EVENTS = {"charge.refunded"}
REFUND_EVENTS = {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}


def checkout_start(*, application: Application, provider: PaymentProvider | None = None) -> Payment:
    """The open checkout for ``application``: reused while it stays open, else a new one.

    Not one transaction: no database lock is held across the call to Stripe. Two
    visits at once make the same idempotent call and store one row.
    """
    provider = provider or payment_provider()
    now = timezone.now()
    if application.status != Status.APPROVED or not application.payment_token:
        raise PortalError("This application is not waiting for a payment.")
    if application.payment_link_expired(now):
        raise PortalError("This payment link has expired.")
    open_payment = (
        Payment.objects.filter(
            application=application,
            status=PStatus.OPEN,
            provider=provider.name,
            session_expires_at__gt=now + REUSE_MARGIN,
        )
        .order_by("-attempt")
        .first()
    )
    if open_payment is not None:
        return open_payment
    last = (
        Payment.objects.filter(application=application).aggregate(last=Max("attempt"))["last"] or 0
    )
    url = pay_link(application)
    session = provider.create_checkout_session(
        application=application,
        attempt=last + 1,
        success_url=url + "?checkout=done",
        cancel_url=url,
    )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                application=application,
                stripe_session_id=session.id,
                attempt=last + 1,
                checkout_url=session.url,
                session_expires_at=session.expires_at,
                amount=from_cents(session.amount_cents)
                if session.amount_cents
                else application.amount_raised,
                currency=session.currency,
                provider=provider.name,
            )
            audit_record(
                actor="lodge",
                action="payment.checkout_started",
                obj=application,
                after={"session": session.id, "attempt": last + 1},
            )
    except IntegrityError:
        # The same session stored by a parallel visit, or already reported by its webhook.
        payment = Payment.objects.get(stripe_session_id=session.id)
    if not Application.objects.filter(id=application.id, status=Status.APPROVED).exists():
        # Cancelled while Stripe made the session: the cancellation found no session to close
        # (it closes those stored when it commits), so close this one before anyone pays on it.
        checkout_sessions_expire(application=application, provider=provider)
        raise PortalError("This application is not waiting for a payment.")
    return payment


def _event_status(event_type: str, session: Mapping[str, Any]) -> str:
    if event_type == "checkout.session.completed":
        # Delayed methods (bank debits) complete unpaid and report the outcome later.
        return PStatus.PAID if session.get("payment_status") == "paid" else PStatus.PROCESSING
    return {
        "checkout.session.async_payment_succeeded": PStatus.PAID,
        "checkout.session.async_payment_failed": PStatus.FAILED,
        "checkout.session.expired": PStatus.EXPIRED,
    }[event_type]


def _session_reference(session: Mapping[str, Any]) -> str:
    metadata = session.get("metadata")
    if not isinstance(metadata, Mapping):  # a signed body is still only JSON: any type can come
        metadata = {}
    return str(metadata.get("application_reference") or session.get("client_reference_id") or "")


def _intent_id(session: Mapping[str, Any]) -> str:
    intent = session.get("payment_intent")
    if isinstance(intent, Mapping):
        intent = intent.get("id")
    return str(intent or "")[:255]


def payment_record_from_webhook(*, event: Mapping[str, Any]) -> str:
    """Record one verified Stripe event; a repeated event id does nothing. Returns the outcome."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = WebhookEvent.objects.create(
                    stripe_event_id=str(event["id"])[:255], type=str(event["type"])[:100]
                )
        except IntegrityError:
            return "duplicate event"
        event_type, obj = str(event["type"]), event["data"]["object"]
        if event_type in HANDLED_EVENTS:
            result = _record_session_event(event_type, obj)
        elif event_type in CHARGE_EVENTS | REFUND_EVENTS:
            result = _record_refund_event(event_type, obj, event.get("created"))
        else:
            result = "ignored"
        row.result = result[:300]
        row.save(update_fields=["result"])
    return result


def _record_refund_event(event_type: str, obj: Mapping[str, Any], created: Any) -> str:
    at = (
        datetime.fromtimestamp(created, tz=UTC)
        if isinstance(created, int) and not isinstance(created, bool) and created >= 0
        else timezone.now()
    )
    if event_type in CHARGE_EVENTS:
        return refunds.charge_record_from_webhook(charge=obj, event_at=at)
    return refunds.refund_record_from_webhook(refund=obj, event_at=at)


def _record_session_event(event_type: str, session: Mapping[str, Any]) -> str:
    session_id = str(session.get("id") or "")[:255]
    if not session_id:
        return "ignored: no session id"
    reference = _session_reference(session)
    known = (
        Payment.objects.filter(stripe_session_id=session_id)
        .values_list("application_id", flat=True)
        .first()
    )
    application_id = (
        known
        or Application.objects.filter(reference=reference).values_list("id", flat=True).first()
    )
    application = None
    if application_id is not None:
        # The lock on the application serialises every event about it (two at once, any order).
        application = Application.objects.select_for_update().get(id=application_id)
    payment = Payment.objects.select_for_update().filter(stripe_session_id=session_id).first()
    if payment is None:
        payment = Payment.objects.create(
            application=application,
            stripe_session_id=session_id,
            amount=from_cents(_amount_total(session) or 0),
            currency=str(session.get("currency") or "")[:3],
            provider="dev" if session_id.startswith("cs_dev_") else "stripe",
        )
    new_status = _event_status(event_type, session)
    if Payment.RANK[new_status] <= Payment.RANK[payment.status]:  # type: ignore[index]
        return f"no change: the session is already {payment.status}"
    before = payment.status
    payment.status = new_status
    payment.stripe_payment_intent_id = _intent_id(session) or payment.stripe_payment_intent_id
    amount_total = _amount_total(session)
    if amount_total is not None:
        payment.amount = from_cents(amount_total)
    if session.get("currency"):
        payment.currency = str(session["currency"])[:3]
    if new_status != PStatus.PAID:
        payment.save()
        if application is not None:
            audit_record(
                actor=WEBHOOK,
                action=f"payment.{new_status}",
                obj=application,
                before={"payment": before},
                after={"payment": new_status, "session": session_id},
            )
        return f"session {new_status}"
    payment.paid_at = timezone.now()
    problems = _mismatches(application, payment, reference, session)
    if problems:
        payment.flagged = True
        payment.flag_reason = "; ".join(problems)[:300]
        payment.save()
        audit_record(
            actor=WEBHOOK,
            action="payment.flagged",
            obj=application or payment,
            after={"session": session_id, "amount": str(payment.amount)},
            message=payment.flag_reason,
        )
        outbox_enqueue(
            kind=Kind.EMAIL_FINANCE,
            dedupe_key=f"email_finance:{session_id}",
            application=application,
            payload={"payment_id": payment.id},
        )
        return "flagged for finance: " + payment.flag_reason
    assert application is not None
    payment.save()
    application.move_to(Status.PAID, actor=WEBHOOK)
    application.paid_at = payment.paid_at
    application.save(update_fields=["status", "paid_at", "updated_at"])
    audit_record(
        actor=WEBHOOK,
        action="application.paid",
        obj=application,
        before={"status": Status.APPROVED},
        after={"status": Status.PAID, "session": session_id, "amount": str(payment.amount)},
        message=f"The lodge paid its share of {format_money(payment.amount)}.",
    )
    ids = {"application_id": application.id, "payment_id": payment.id}
    for kind in (
        Kind.NINOX_WRITE_BACK,
        Kind.EMAIL_VENDOR,
        Kind.EMAIL_FINANCE,
        Kind.EMAIL_LODGE_RECEIPT,
    ):
        key = (
            f"email_finance:{session_id}"
            if kind == Kind.EMAIL_FINANCE
            else f"{kind}:{application.reference}"
        )
        outbox_enqueue(kind=kind, dedupe_key=key, application=application, payload=ids)
    return "paid"


def _amount_total(session: Mapping[str, Any]) -> int | None:
    """The session's amount in cents, or None when it is missing or not whole cents we can store."""
    value = session.get("amount_total")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        return None
    return value


def _mismatches(
    application: Application | None,
    payment: Payment,
    reference: str,
    session: Mapping[str, Any],
) -> list[str]:
    """Why this money cannot be taken as the application's share (empty when it can)."""
    if application is None:
        return [f"no application has the reference {reference or '(none)'}"]
    problems = []
    if _amount_total(session) is None:
        problems.append("the event gives no amount in whole cents")
    if reference != application.reference or (
        session.get("client_reference_id") not in (None, application.reference)
    ):
        problems.append(
            f"the session names {reference or 'no application'}, not {application.reference}"
        )
    if to_cents(payment.amount) != to_cents(application.amount_raised):
        problems.append(
            f"paid {format_money(payment.amount)}, expected {format_money(application.amount_raised)}"
        )
    if payment.currency.lower() != CURRENCY:
        problems.append(f"paid in {payment.currency.upper() or 'no currency'}, expected USD")
    if application.status == Status.PAID:
        problems.append("the application was already paid through another session")
    elif application.status != Status.APPROVED:
        problems.append(f"the application is {application.get_status_display().lower()}")
    return problems


@transaction.atomic
def application_expire(*, application_id: int, now: datetime | None = None) -> bool:
    """Expire an approved application whose link ran out: its amount is released, the lodge
    told. Returns ``False`` when it was paid, cancelled or extended meanwhile."""
    now = now or timezone.now()
    application = Application.objects.select_for_update().get(id=application_id)
    if application.status != Status.APPROVED or not application.payment_link_expired(now):
        return False
    application.move_to(Status.EXPIRED, actor=EXPIRY)
    application.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=EXPIRY,
        action="application.expired",
        obj=application,
        before={"status": Status.APPROVED},
        after={"status": Status.EXPIRED},
        message=f"Not paid by {timezone.localtime(application.payment_expires_at):%B %-d, %Y}; "
        f"the match of {format_money(application.amount_requested)} is released.",
    )
    outbox_enqueue(
        kind=Kind.EMAIL_EXPIRED,
        dedupe_key=f"email_expired:{application.reference}",
        application=application,
        payload={"application_id": application.id},
    )
    return True


def applications_expire_due(*, now: datetime | None = None) -> int:
    """Expire every approved application past its link's validity; returns how many."""
    now = now or timezone.now()
    due = Application.objects.filter(
        status=Status.APPROVED, payment_expires_at__lte=now
    ).values_list("id", flat=True)
    return sum(application_expire(application_id=i, now=now) for i in list(due))


def checkout_sessions_expire(
    *, application: Application, provider: PaymentProvider | None = None
) -> int:
    """Close the application's open checkout sessions at Stripe; returns how many were closed.

    Called after a cancellation commits (no lock is held across the calls). A session Stripe
    cannot close is left to the webhook: a payment on it is flagged for finance, not taken.
    """
    provider = provider or payment_provider()
    closed = 0
    for payment in Payment.objects.filter(
        application=application, status=PStatus.OPEN, provider=provider.name
    ):
        try:
            if not provider.expire_checkout_session(session_id=payment.stripe_session_id):
                continue  # no longer open at Stripe: its own event says whether it was paid
        except ProviderError as exc:
            logger.warning(
                "could not expire session %s of %s: %s",
                payment.stripe_session_id,
                application.reference,
                exc,
            )
            continue
        if Payment.objects.filter(id=payment.id, status=PStatus.OPEN).update(
            status=PStatus.EXPIRED
        ):
            closed += 1
            audit_record(
                actor="portal",
                action="payment.expired",
                obj=application,
                after={"payment": PStatus.EXPIRED, "session": payment.stripe_session_id},
                message=f"The open checkout session was closed: {application.reference} is "
                f"{application.get_status_display().lower()}, so it no longer waits for a payment.",
            )
    return closed


def checkout_sessions_left_open_close(
    *, now: datetime | None = None, provider: PaymentProvider | None = None
) -> int:
    """Close the sessions still open at Stripe for applications that no longer wait for a
    payment (cancelled while Stripe could not be reached, or expired); the expiry sweep's
    second step. Returns how many were closed."""
    provider = provider or payment_provider()
    now = now or timezone.now()
    left_open = (
        Payment.objects.filter(status=PStatus.OPEN, provider=provider.name)
        .exclude(application=None)
        .exclude(application__status=Status.APPROVED)
        .filter(Q(session_expires_at=None) | Q(session_expires_at__gt=now))
        .values_list("application_id", flat=True)
    )
    return sum(
        checkout_sessions_expire(application=application, provider=provider)
        for application in Application.objects.filter(id__in=set(left_open))
    )


@transaction.atomic
def payment_link_resend(*, application: Application, actor: Any) -> OutboxMessage:
    """Email the lodge its payment link again (reviewers)."""
    application = Application.objects.select_for_update().get(id=application.id)
    if application.status != Status.APPROVED or not application.payment_token:
        raise PortalError("Only an approved application that waits for payment has a link to send.")
    if application.payment_link_expired(timezone.now()):
        raise PortalError("The payment link has expired.")
    sent_before = OutboxMessage.objects.filter(
        application=application, kind=Kind.EMAIL_PAYMENT_LINK
    ).count()
    message = outbox_enqueue(
        kind=Kind.EMAIL_PAYMENT_LINK,
        dedupe_key=f"email_payment_link:{application.reference}:{sent_before + 1}",
        application=application,
        payload={"application_id": application.id},
    )
    if message is None:
        raise PortalError("The link is being sent already.")
    audit_record(actor=actor, action="application.payment_link_resent", obj=application)
    return message
