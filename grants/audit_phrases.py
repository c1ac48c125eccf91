"""The grants' audit events as sentences, for the audit log and an application's timeline.

Registered with ``portal.audit_text`` in ``GrantsConfig.ready()``.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from grants.models import Application, OutboxMessage
from grants.money import format_money
from portal.audit_text import Names, Phrase
from portal.models import AuditEvent

APPLICATION = "grants.application"

# The rules' fields in words; money fields are shown as money.
RULE_NAMES = {
    "annual_cap": "the annual cap",
    "match_ratio": "the match ratio",
    "auto_approve_limit": "the auto-approve limit",
    "payment_link_days": "the payment-link days",
    "vendor_email": "the vendor's address",
    "finance_email": "the finance address",
    "digest_hour": "the digest hour",
    "fiscal_year_start_month": "the fiscal year's first month",
    "fiscal_year_start_day": "the fiscal year's first day",
}
MONEY_RULES = {"annual_cap", "auto_approve_limit"}


def applications_by_reference(references: Sequence[str]) -> dict[str, Any]:
    found = Application.objects.filter(reference__in=references).select_related("lodge")
    return {application.reference: application for application in found}


def money(value: Any) -> str:
    try:
        return format_money(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value)


def _lodge(event: AuditEvent, names: Names) -> str:
    application = names.object(event)
    return f"Lodge {application.lodge_number}" if application is not None else "The lodge"


def _ref(event: AuditEvent) -> str:
    return event.object_id or event.object_label


def _submitted(e: AuditEvent, n: Names) -> str:
    application = n.object(e)
    through = " through the API" if (e.after or {}).get("source") == "api" else ""
    if application is None:
        return f"{_ref(e)} was submitted{through}"
    return (
        f"Lodge {application.lodge_number} applied for a match of "
        f"{format_money(application.amount_requested)} for {application.charity_name}{through}"
    )


def _auto(outcome: str) -> Phrase:
    """The intake's own decision (a person deciding is phrased as one)."""
    return lambda e, n: (
        f"{n.actor(e)} {outcome} {_ref(e)}" if e.actor_id else f"{_ref(e)} {outcome} automatically"
    )


def _by_person(verb: str, how: str = "") -> Phrase:
    return lambda e, n: f"{n.actor(e)} {verb} {_ref(e)}{how}"


def _paid(e: AuditEvent, n: Names) -> str:
    amount = (e.after or {}).get("amount")
    return f"{_lodge(e, n)} paid {money(amount) if amount else 'its share'} by card"


def _checkout(e: AuditEvent, n: Names) -> str:
    application = n.object(e)
    amount = f" of {format_money(application.amount_raised)}" if application is not None else ""
    return f"{_lodge(e, n)} started paying its share{amount} by card"


def _written_back(e: AuditEvent, n: Names) -> str:
    updated = (e.after or {}).get("updated")
    return f"Grant {_ref(e)} written to Ninox" + (" (its record there updated)" if updated else "")


def _email_resent(e: AuditEvent, n: Names) -> str:
    after = e.after or {}
    label = str(dict(OutboxMessage.Kind.choices).get(after.get("kind", ""), "an email")).lower()
    return f"{n.actor(e)} sent the {label} again" + (
        f" to {after['to']}" if after.get("to") else ""
    )


def _rule_value(name: str, value: Any) -> str:
    if value is None or value == "":
        return "none"
    if name in MONEY_RULES:
        return money(value)
    if name == "fiscal_year_start_month" and str(value).isdigit() and 1 <= int(value) <= 12:
        return calendar.month_name[int(value)]
    return str(value)


def _rules_changed(e: AuditEvent, n: Names) -> str:
    before, after = e.before or {}, e.after or {}
    changes = [
        f"{RULE_NAMES.get(name, name.replace('_', ' '))} from {_rule_value(name, before.get(name))} "
        f"to {_rule_value(name, after.get(name))}"
        for name in after
    ]
    return f"{n.actor(e)} changed the grant rules: " + "; ".join(changes or ["no change"])


PHRASES: dict[str, Phrase] = {
    "application.submitted": _submitted,
    "application.approved": _auto("approved"),
    "application.rejected": _auto("rejected"),
    "application.needs_review": lambda e, n: f"{_ref(e)} sent to a person for review",
    "application.review_approved": _by_person("approved"),
    "application.review_rejected": _by_person("rejected"),
    "application.override_approved": _by_person("approved", ", overriding the earlier decision"),
    "application.override_rejected": _by_person("rejected", ", overriding the earlier decision"),
    "application.bulk_approved": _by_person("approved", " with others at once"),
    "application.bulk_rejected": _by_person("rejected", " with others at once"),
    "application.cancelled": _by_person("cancelled"),
    "application.decision_undone": lambda e, n: (
        f"{n.actor(e)} undid the "
        + {"approved": "approval", "rejected": "rejection"}.get(
            str((e.before or {}).get("status", "")), "decision"
        )
        + f" of {_ref(e)}"
    ),
    "application.expired": lambda e, n: f"The payment link for {_ref(e)} ran out unpaid",
    "application.refund_requested": lambda e, n: (
        f"{n.actor(e)} asked Stripe to refund {money((e.after or {}).get('amount', ''))} "
        f"of the lodge's share of {_ref(e)}"
    ),
    "application.refund_unconfirmed": lambda e, n: (
        f"Stripe did not confirm the refund for {_ref(e)}; the portal waits for its events"
    ),
    "application.refund_failed": lambda e, n: f"Stripe did not make the refund for {_ref(e)}",
    "application.refunded": lambda e, n: (
        f"{_ref(e)} refunded in full: {money((e.after or {}).get('refunded_share', ''))} "
        "of the lodge's share back, the match released"
    ),
    "application.partly_refunded": lambda e, n: (
        f"{_ref(e)} partly refunded: {money((e.after or {}).get('refunded_share', ''))} "
        f"of the lodge's share back, {money((e.after or {}).get('match_kept', ''))} of the match stays"
    ),
    "application.refund_taken_back": lambda e, n: (
        f"Stripe took back a refund of {_ref(e)}: {money((e.after or {}).get('refunded_share', ''))} "
        f"of the lodge's share refunded now, {money((e.after or {}).get('match_kept', ''))} "
        "of the match counts again"
    ),
    "application.paid": _paid,
    "application.payment_link_resent": _by_person("sent again the payment link for"),
    "application.written_back": _written_back,
    "application.write_back_refused": lambda e, n: f"Ninox refused grant {_ref(e)}",
    "payment.checkout_started": _checkout,
    "payment.processing": lambda e, n: f"The card payment for {_ref(e)} is being confirmed",
    "payment.failed": lambda e, n: f"The card payment for {_ref(e)} failed",
    "payment.expired": lambda e, n: f"The card checkout for {_ref(e)} lapsed unpaid",
    "payment.flagged": lambda e, n: (
        f"A card payment of {money((e.after or {}).get('amount', ''))} was held for finance to check"
    ),
    "email.resent": _email_resent,
    "api_token.created": lambda e, n: f"{n.actor(e)} created the API token {n.subject(e)}",
    "api_token.revoked": lambda e, n: f"{n.actor(e)} revoked the API token {n.subject(e)}",
    "grant_rules.changed": _rules_changed,
    "outbox.retried": lambda e, n: (
        f"{n.actor(e)} retried {len((e.after or {}).get('ids') or [])} failed email(s) "
        "and write-back(s)"
    ),
    "ninox.sync_requested": lambda e, n: f"{n.actor(e)} asked to read Ninox's changes now",
    "ninox.drift_check_requested": lambda e, n: (
        f"{n.actor(e)} asked to check the lodges' totals against Ninox"
    ),
    "report.export_requested": lambda e, n: f"{n.actor(e)} asked for the export {n.subject(e)}",
}


def register_grant_phrases() -> None:
    """Called from ``GrantsConfig.ready()``."""
    from portal.audit_text import register_loader, register_phrase

    register_loader(APPLICATION, applications_by_reference)
    for action, phrase in PHRASES.items():
        register_phrase(action, phrase)
