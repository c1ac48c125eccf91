"""Recording a decision: the Decision row with its figures, the status change, the audit.

Shared by the automatic decision at intake and by staff decisions, so both leave the
same trail. Call inside the transaction that holds the budget lock.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.utils import timezone

from grants.budget_rule import Budget
from grants.models import Application, Decision, GrantRules, Status
from grants.services.emails import decision_email_enqueue
from portal.audit import audit_record

AUTO = "auto-decision"


def decision_record(
    *,
    application: Application,
    outcome: str,
    budget: Budget,
    rules: GrantRules,
    explanation: str,
    action: str,
    actor: Any = AUTO,
    kind: str = "auto",
    reason: str = "",
    message: str = "",
    internal_note: str = "",
    reapply: str = "",
    ninox_fresh: bool = True,
) -> Decision:
    """Store the decision, move the application to ``outcome`` and queue the lodge's email.

    ``application`` may be unsaved (a new one, decided at intake): it is then inserted
    already decided.
    """
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    before = {"status": application.status}
    application.move_to(outcome, actor=actor)
    application.decided_at = now
    # Why it waits for a person; cleared once a person decided.
    application.review_reason = reason[:200] if outcome == Status.NEEDS_REVIEW else ""
    if outcome == Status.APPROVED:
        application.grant_date = timezone.localdate(now)
        application.payment_token = application.payment_token or secrets.token_urlsafe(32)
        application.payment_expires_at = now + timedelta(days=rules.payment_link_days)
    application.save()
    decision = Decision.objects.create(
        application=application,
        outcome=outcome,
        decided_by=user,
        decided_by_name=user.get_username() if user else str(actor),
        kind=kind,
        reason=reason,
        message=message,
        internal_note=internal_note,
        reapply=reapply,
        cap=budget.cap,
        used_ninox=budget.used_ninox,
        pending_portal=budget.pending_portal,
        remaining=budget.remaining,
        requested=application.amount_requested,
        rules_version=rules.version,
        ninox_fresh=ninox_fresh,
        explanation=explanation,
    )
    audit_record(
        actor=actor,
        action=action,
        obj=application,
        before=before,
        after={
            "status": outcome,
            "remaining": str(budget.remaining),
            **({"message": message} if message else {}),
            **({"internal_note": internal_note} if internal_note else {}),
        },
        message=explanation,
    )
    # The lodge hears of every decision; the outbox sends it once this transaction commits.
    decision_email_enqueue(application, decision)
    return decision
