"""An application's timeline: every transition and email, with who or what and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from grants.models import Application, EmailLog, OutboxMessage, Payment
from portal.models import AuditEvent


def kind_label(kind: str) -> str:
    """A person's name for an email or outbox kind ("Receipt to the lodge")."""
    labels = dict(OutboxMessage.Kind.choices)
    return str(labels.get(kind, kind.replace("_", " ")))


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    actor: str
    what: str
    detail: str


def application_timeline(application: Application) -> list[TimelineEntry]:
    events = AuditEvent.objects.filter(
        object_type="grants.application", object_id=application.reference
    ).order_by("at", "id")
    entries = [
        TimelineEntry(
            event.at,
            event.actor_name,
            event.action.removeprefix("application.").replace("_", " "),
            event.message,
        )
        for event in events
    ]
    for email in EmailLog.objects.filter(application=application):
        state = (
            "sent"
            if email.status == "sent"
            else f"failed after {email.attempts} attempt(s): {email.error}"
        )
        entries.append(
            TimelineEntry(
                email.sent_at or email.created_at,
                "outbox",
                kind_label(email.kind).lower(),
                f"to {email.to}, {state}",
            )
        )
    for payment in Payment.objects.filter(application=application):
        flag = f"; flagged for finance: {payment.flag_reason}" if payment.flagged else ""
        entries.append(
            TimelineEntry(
                payment.paid_at or payment.created_at,
                payment.provider,
                f"payment {payment.get_status_display().lower()}",
                f"${payment.amount} {payment.currency.upper()}, session {payment.stripe_session_id}{flag}",
            )
        )
    return sorted(entries, key=lambda entry: entry.at)
