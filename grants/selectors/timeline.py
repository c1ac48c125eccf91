"""An application's timeline: every action and email as one sentence each, with when.

Actions come from the audit log (phrased by ``grants/audit_phrases.py``); emails from
the email log. The raw before/after stays one click away, behind the entry's details.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from grants.models import Application, EmailLog, OutboxMessage, Refund
from grants.money import format_money
from portal.audit_text import Names, names_for, sentence
from portal.models import AuditEvent


def kind_label(kind: str) -> str:
    """A person's name for an email or outbox kind ("Receipt to the lodge")."""
    labels = dict(OutboxMessage.Kind.choices)
    return str(labels.get(kind, kind.replace("_", " ")))


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str  # one sentence: who or what did what
    detail: str = ""  # the explanation or message that came with it
    raw: str = ""  # the recorded action and its before/after, for the details toggle


def raw_change(event: AuditEvent) -> str:
    parts = [event.action]
    if event.before is not None:
        parts.append("before: " + json.dumps(event.before, sort_keys=True, default=str))
    if event.after is not None:
        parts.append("after: " + json.dumps(event.after, sort_keys=True, default=str))
    return "; ".join(parts)


def _email_entry(email: EmailLog) -> TimelineEntry:
    label = kind_label(email.kind)
    if email.status == "sent":
        what = f"{label} sent to {email.to}"
    else:
        what = f"{label} to {email.to} failed after {email.attempts} attempt(s)"
    return TimelineEntry(email.sent_at or email.created_at, what, email.error)


def _refund_entry(refund: Refund) -> TimelineEntry:
    by = (
        " (made in Stripe)"
        if refund.requested_by_name == "stripe"
        else f" (asked by {refund.requested_by_name})"
        if refund.requested_by_name
        else ""
    )
    what = (
        f"Refund of {format_money(refund.amount)} of the lodge's share "
        f"{refund.get_status_display().lower()}{by}"
    )
    detail = ": ".join(part for part in (refund.stripe_refund_id or "", refund.error) if part)
    return TimelineEntry(refund.updated_at, what, detail)  # its status is as of then


def application_timeline(application: Application) -> list[TimelineEntry]:
    events = list(
        AuditEvent.objects.filter(
            object_type="grants.application", object_id=application.reference
        ).order_by("at", "id")
    )
    names: Names = names_for([e for e in events if e.actor_id])
    names.objects[("grants.application", application.reference)] = application
    entries = []
    for event in events:
        said = sentence(event, names)
        if said is not None:
            entries.append(TimelineEntry(event.at, said, event.message, raw_change(event)))
    entries += [_email_entry(email) for email in EmailLog.objects.filter(application=application)]
    refunds = Refund.objects.filter(payment__application=application)
    entries += [_refund_entry(refund) for refund in refunds]
    return sorted(entries, key=lambda entry: entry.at)
