"""The grants' emails: built from triples, sent from the outbox, each send logged.

Emails to a lodge, the fulfillment vendor, finance and reviewers. Each outbox row
sends one email at most once (a re-run after a crash finds its log row); ``email_resend``
queues a logged email again for a reviewer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from grants.models import Application, Decision, EmailLog, OutboxMessage, Payment, Status
from grants.outbox import PermanentError, outbox_enqueue
from grants.rules import rules_in_force
from grants.selectors.applications import (
    apply_again_url,
    fiscal_year_label,
    latest_decision,
    payment_url,
    status_url,
)
from grants.selectors.what_next import lodge_news
from portal import roles
from portal.audit import audit_record
from portal.lib.email import build_email
from portal.lib.errors import PortalError

Kind = OutboxMessage.Kind

# The outbox kind → the email template's name (``templates/emails/<name>-…``).
TEMPLATES: dict[str, str] = {
    Kind.EMAIL_DECISION: "decision",
    Kind.EMAIL_VENDOR: "vendor-paid",
    Kind.EMAIL_FINANCE: "finance-payment",
    Kind.EMAIL_LODGE_RECEIPT: "lodge-receipt",
    Kind.EMAIL_EXPIRED: "payment-expired",
    Kind.EMAIL_PAYMENT_LINK: "payment-link",
    Kind.EMAIL_DIGEST: "digest",
    Kind.EMAIL_WRITE_BACK_FAILED: "write-back-failed",
    Kind.EMAIL_REFUND_LODGE: "refund-lodge",
    Kind.EMAIL_REFUND_VENDOR: "refund-vendor",
    Kind.EMAIL_REFUND_FINANCE: "refund-finance",
    Kind.EMAIL_CANCELLED: "cancelled",
}


def _application(payload: dict[str, Any]) -> Application:
    return Application.objects.select_related("lodge").get(id=int(payload["application_id"]))


def _application_context(application: Application) -> dict[str, Any]:
    lodge = application.lodge
    return {
        "application": application,
        "lodge_name": lodge.name if lodge else f"Lodge {application.lodge_number}",
        "fiscal_year": fiscal_year_label(application),
        "status_url": status_url(application),
    }


def _recipients_and_context(message: OutboxMessage) -> tuple[list[str], dict[str, Any]]:
    """Who gets the email for ``message``, and what its template needs."""
    payload = message.payload
    rules = rules_in_force()
    kind = message.kind
    if kind == Kind.EMAIL_FINANCE:
        payment = Payment.objects.select_related("application__lodge").get(
            id=int(payload["payment_id"])
        )
        context: dict[str, Any] = {"payment": payment}
        if payment.application is not None:
            context.update(_application_context(payment.application))
        return [rules.finance_email], context
    if kind == Kind.EMAIL_DIGEST:
        since = datetime.fromisoformat(payload["since"])
        until = datetime.fromisoformat(payload["until"])
        return digest_recipients(), digest_context(since, until)
    application = _application(payload)
    context = _application_context(application)
    if kind in (Kind.EMAIL_REFUND_LODGE, Kind.EMAIL_REFUND_VENDOR, Kind.EMAIL_REFUND_FINANCE):
        context["payment"] = Payment.objects.get(id=int(payload["payment_id"]))
        context["refunds"] = list(context["payment"].refunds.order_by("created_at", "id"))
        context["taken_back"] = payload.get(
            "taken_back"
        )  # what was refunded before Stripe took it back
        recipients: dict[str, list[str]] = {
            Kind.EMAIL_REFUND_LODGE: [application.contact_email],
            Kind.EMAIL_REFUND_VENDOR: [rules.vendor_email],
            Kind.EMAIL_REFUND_FINANCE: [rules.finance_email],
        }
        return recipients[kind], context
    if kind == Kind.EMAIL_CANCELLED:
        context["message"] = str(payload.get("message", ""))
        return [application.contact_email], context
    if kind == Kind.EMAIL_VENDOR:
        return [rules.vendor_email], context
    if kind == Kind.EMAIL_WRITE_BACK_FAILED:
        context["reason"] = str(payload.get("reason", ""))
        context["health_url"] = settings.PORTAL_BASE_URL + reverse("health")
        return [rules.finance_email], context
    if kind == Kind.EMAIL_DECISION:
        decision = latest_decision(application)
        context["decision"] = decision
        context["news"] = lodge_news(application, decision)
        context["apply_again_url"] = apply_again_url(application)
        context["payment_url"] = payment_url(application)
    elif kind == Kind.EMAIL_PAYMENT_LINK:
        context["payment_url"] = payment_url(application)
        if context["payment_url"] is None:
            raise PermanentError(f"{application.reference} no longer waits for payment.")
    return [application.contact_email], context


def email_from_outbox(message: OutboxMessage) -> EmailLog:
    """Send the email an outbox row stands for, once; log each attempt on one ``EmailLog`` row."""
    log = EmailLog.objects.filter(outbox=message).first()
    if log is not None and log.status == EmailLog.Status.SENT:
        return log  # sent before a crash stopped the row being marked done
    to, context = _recipients_and_context(message)
    if not to:
        raise PermanentError("Nobody to send it to.")
    email = build_email(TEMPLATES[message.kind], context, to)
    if log is None:
        log = EmailLog(outbox=message, application=message.application, kind=message.kind)
    log.to = ", ".join(to)[:500]
    log.subject = email.subject[:300]
    log.attempts = message.attempts
    try:
        email.send()
    except Exception as exc:
        log.status = EmailLog.Status.FAILED
        log.error = f"{type(exc).__name__}: {exc}"[:300]
        log.save()
        raise
    log.status = EmailLog.Status.SENT
    log.error = ""
    log.sent_at = timezone.now()
    log.save()
    return log


@transaction.atomic
def email_resend(*, email_log: EmailLog, actor: Any) -> OutboxMessage:
    """Queue a logged email again (a reviewer's **Resend**); it is rendered afresh."""
    original = email_log.outbox
    if original is None or original.kind not in TEMPLATES:
        raise PortalError("This email cannot be sent again.")
    count = OutboxMessage.objects.filter(dedupe_key__startswith=f"resend:{original.id}:").count()
    message = outbox_enqueue(
        kind=original.kind,
        dedupe_key=f"resend:{original.id}:{count + 1}",
        application=original.application,
        payload=dict(original.payload),
    )
    if message is None:
        raise PortalError("This email is being sent again already.")
    audit_record(
        actor=actor,
        action="email.resent",
        obj=original.application or email_log,
        after={"kind": original.kind, "to": email_log.to},
    )
    return message


# ---- the daily digest -------------------------------------------------------------------


def digest_recipients() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.REVIEWER)
        .exclude(email="")
    )
    return sorted({u.email for u in users})


def digest_context(since: datetime, until: datetime) -> dict[str, Any]:
    """What the digest reports for the window ``[since, until)``."""
    arrived = Application.objects.filter(submitted_at__gte=since, submitted_at__lt=until)
    paid = Application.objects.filter(paid_at__gte=since, paid_at__lt=until)
    waiting = Application.objects.filter(status=Status.NEEDS_REVIEW).order_by("submitted_at")
    failed = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.FAILED, done_at__gte=since, done_at__lt=until
    )
    flagged = Payment.objects.filter(flagged=True, paid_at__gte=since, paid_at__lt=until)
    return {
        "since": since,
        "until": until,
        "arrived": list(arrived.select_related("lodge")[:50]),
        "arrived_count": arrived.count(),
        "waiting": list(waiting.select_related("lodge")[:50]),
        "waiting_count": waiting.count(),
        "paid": list(paid.select_related("lodge")[:50]),
        "paid_count": paid.count(),
        "failed": list(failed[:50]),
        "failed_count": failed.count(),
        "flagged": list(flagged[:50]),
        "flagged_count": flagged.count(),
    }


def digest_enqueue(*, now: datetime | None = None) -> str:
    """Queue today's digest if it is the rules' digest hour (local) and it was not queued yet.

    Skipped when the last day brought nothing and nothing waits.
    """
    now = now or timezone.now()
    local = timezone.localtime(now)
    rules = rules_in_force(now)
    if local.hour != rules.digest_hour:
        return "not the digest hour"
    until = local.replace(minute=0, second=0, microsecond=0)
    since = until - timedelta(days=1)
    context = digest_context(since, until)
    counts = ("arrived_count", "waiting_count", "paid_count", "failed_count", "flagged_count")
    if not any(context[c] for c in counts):
        return "nothing to report"
    if not digest_recipients():
        return "no reviewer has an email address"
    with transaction.atomic():
        message = outbox_enqueue(
            kind=Kind.EMAIL_DIGEST,
            # One digest per local day, however often the task runs in the hour.
            dedupe_key=f"email_digest:{local.date().isoformat()}",
            payload={"since": since.isoformat(), "until": until.isoformat()},
        )
    return "queued" if message else "already queued today"


def decision_email_enqueue(
    application: Application, decision: Decision | None = None
) -> OutboxMessage | None:
    """Queue the lodge's decision email (inside the deciding transaction).

    ``decision``: the one just stored (else the application's latest is read).
    """
    decision = decision or latest_decision(application)
    return outbox_enqueue(
        kind=Kind.EMAIL_DECISION,
        dedupe_key=f"email_decision:{application.reference}:{decision.id if decision else 0}",
        application=application,
        payload={"application_id": application.id},
    )
