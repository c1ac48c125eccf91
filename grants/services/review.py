"""Staff decisions: approve, reject or override with a reason; cancel; bulk decisions.

Approving re-checks the budget under the same (lodge, fiscal year) lock as intake.
Approving over the remaining budget needs the Admin role, and the refusal says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from grants.budget_rule import budget_sentence
from grants.fiscal_year import FiscalYear
from grants.models import TRANSITIONS, Application, Decision, Lodge, OutboxMessage, Status
from grants.models.applications import DECIDE
from grants.money import ZERO, format_money
from grants.outbox import outbox_enqueue
from grants.rules import fiscal_year_of, rules_in_force
from grants.selectors.budgets import Budget, lodge_budget
from grants.services.budget_lock import budget_lock
from grants.services.decisions import decision_record
from grants.services.mirror_refresh import mirror_refresh
from grants.services.payments import checkout_sessions_expire
from grants.services.refunds import clean_reason
from portal.audit import audit_record
from portal.lib.errors import PortalError
from portal.permissions import has_permission

# Where a staff decision (approve or reject) may start from, as TRANSITIONS declares.
DECIDABLE = {
    t.source
    for t in TRANSITIONS
    if t.permission == DECIDE and t.target in (Status.APPROVED, Status.REJECTED)
}


@dataclass(frozen=True)
class BulkResult:
    reference: str
    ok: bool
    message: str


def _require(action: str, actor: Any, application: Application | None = None) -> None:
    verdict = has_permission(action, actor, application)
    if not verdict.allowed:
        raise PortalError(verdict.reason)


def application_decide(
    *, application: Application, actor: Any, outcome: str, reason: str, kind: str = "review"
) -> Decision:
    """A staff member approves or rejects; an override changes an earlier decision."""
    _require("grants.application.decide", actor, application)
    reason = clean_reason(reason)
    if outcome not in {Status.APPROVED, Status.REJECTED}:
        raise PortalError("Choose approve or reject.", {"outcome": ["Outcome: approve or reject."]})
    if application.status not in DECIDABLE:
        raise PortalError(
            f"{application.reference} is {application.get_status_display().lower()}; it can no longer be decided."
        )
    if application.status == outcome:
        raise PortalError(
            f"{application.reference} is already {application.get_status_display().lower()}."
        )
    if application.status in {Status.APPROVED, Status.REJECTED} and kind == "review":
        kind = "override"

    lodge = application.lodge
    if outcome == Status.APPROVED:
        mirror_refresh(
            lodge_number=application.lodge_number
        )  # the one Ninox call, before the lock; a stale mirror still decides
        if lodge is None:
            lodge = Lodge.objects.filter(number=application.lodge_number).first()
            if lodge is None:
                raise PortalError(
                    f"No lodge has number {application.lodge_number}; it cannot be approved."
                )
    now = timezone.now()
    rules = rules_in_force(now)
    # An approval counts in the fiscal year of its date; a rejection stays where it was.
    if outcome == Status.APPROVED:
        fy = fiscal_year_of(now, rules)
    else:
        fy = FiscalYear.from_key(application.fiscal_year, rules.fiscal_year_start)
    fy_key = fy.key

    with budget_lock(lodge, fy_key):
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != application.status:
            raise PortalError(f"{application.reference} changed meanwhile; reload the page.")
        if lodge is not None:
            budget = lodge_budget(lodge.id, fy_key, rules.annual_cap, exclude_id=locked.id)
        else:
            budget = Budget(cap=rules.annual_cap, used_ninox=ZERO, pending_portal=ZERO)
        figures = budget_sentence(locked.lodge_number, budget, fy)
        over = locked.amount_requested > budget.remaining
        if (
            outcome == Status.APPROVED
            and over
            and not has_permission("grants.application.approve_over_cap", actor, locked)
        ):
            raise PortalError(
                f"Approving over the remaining budget needs the Admin role: {figures}; "
                f"{format_money(max(budget.remaining, ZERO))} remains and "
                f"{format_money(locked.amount_requested)} was requested."
            )
        verb = "approved" if outcome == Status.APPROVED else "rejected"
        explanation = (
            f"{verb.capitalize()} by {actor.get_username()}: {reason} "
            f"({figures}; {format_money(budget.remaining)} remained and "
            f"{format_money(locked.amount_requested)} was requested"
            f"{'; approved over the cap' if outcome == Status.APPROVED and over else ''}.)"
        )
        if outcome == Status.APPROVED:
            locked.lodge = lodge
            locked.fiscal_year = fy_key
        decision = decision_record(
            application=locked,
            outcome=outcome,
            budget=budget,
            rules=rules,
            explanation=explanation,
            action=f"application.{kind}_{verb}",
            actor=actor,
            kind=kind,
            reason=reason,
        )
    application.refresh_from_db()
    return decision


def application_cancel(*, application: Application, actor: Any, reason: str) -> None:
    """Cancel an approved, unpaid application: its amount is released, the payment link stops
    working at once (an open checkout session is expired too), the lodge is emailed ``reason``."""
    _require("grants.application.decide", actor, application)
    reason = clean_reason(reason)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != Status.APPROVED:
            raise PortalError(
                f"Only an approved, unpaid application can be cancelled; {application.reference} is not."
            )
        locked.move_to(Status.CANCELLED, actor=actor)
        locked.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="application.cancelled",
            obj=application,
            before={"status": Status.APPROVED},
            after={"status": Status.CANCELLED, "reason": reason},
            message=f"The approval is cancelled and the match of "
            f"{format_money(locked.amount_requested)} is released. Message to the lodge: {reason}",
        )
        outbox_enqueue(
            kind=OutboxMessage.Kind.EMAIL_CANCELLED,
            dedupe_key=f"email_cancelled:{locked.reference}",
            application=locked,
            payload={"application_id": locked.id, "message": reason},
        )
    # After the commit: the page already refuses to pay; this closes a session left open.
    checkout_sessions_expire(application=locked)
    application.refresh_from_db()


def applications_bulk_decide(
    *, references: list[str], actor: Any, outcome: str, reason: str
) -> list[BulkResult]:
    """Decide each application on its own (its own lock and budget check); one result per row."""
    clean_reason(reason)
    results = []
    found = {
        a.reference: a
        for a in Application.objects.select_related("lodge").filter(reference__in=references)
    }
    for reference in references:
        application = found.get(reference)
        if application is None:
            results.append(BulkResult(reference, False, "No such application."))
            continue
        try:
            application_decide(
                application=application, actor=actor, outcome=outcome, reason=reason, kind="bulk"
            )
        except PortalError as exc:
            results.append(BulkResult(reference, False, exc.message))
        else:
            results.append(BulkResult(reference, True, f"{application.reference} {outcome}."))
    return results


def bulk_preview(references: list[str]) -> list[dict[str, Any]]:
    """What each selected row would meet now (the decision re-checks under the lock)."""
    rules = rules_in_force()
    rows = []
    for application in Application.objects.select_related("lodge").filter(reference__in=references):
        budget = (
            lodge_budget(
                application.lodge_id,
                application.fiscal_year,
                rules.annual_cap,
                exclude_id=application.id,
            )
            if application.lodge_id
            else None
        )
        rows.append({"application": application, "remaining": budget.remaining if budget else None})
    return rows
