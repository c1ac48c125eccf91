"""Staff decisions: approve, reject or override with a message to the lodge (and an internal
note); cancel with a reason; bulk decisions.

Approving re-checks the budget under the same (lodge, fiscal year) lock as intake.
Approving over the remaining budget needs the Admin role, and the refusal says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from grants.budget_rule import Budget, budget_sentence
from grants.fiscal_year import FiscalYear
from grants.models import (
    Application,
    Decision,
    Lodge,
    OutboxMessage,
    Payment,
    Reapply,
    Status,
)
from grants.models.applications import DECIDABLE
from grants.money import ZERO, format_money
from grants.outbox import outbox_delay, outbox_enqueue
from grants.rules import fiscal_year_of, rules_in_force
from grants.selectors.budgets import lodge_budget
from grants.services.budget_lock import budget_lock
from grants.services.decisions import decision_record
from grants.services.mirror_refresh import mirror_refresh
from grants.services.payments import checkout_sessions_expire
from grants.services.staff_text import clean_message, clean_note, clean_reason
from portal.audit import audit_record
from portal.lib.errors import PortalError
from portal.permissions import has_permission

# A person's decision email waits this long, and within it the decider may undo it.
UNDO_SECONDS = 60


@dataclass(frozen=True)
class BulkResult:
    reference: str
    ok: bool
    message: str


def _clean_reapply(reapply: str) -> str:
    if reapply and reapply not in Reapply.values:
        raise PortalError(
            "Choose what the lodge may do next.",
            {"reapply": ["What next: choose one of the choices offered."]},
        )
    return reapply


def _require(action: str, actor: Any, application: Application | None = None) -> None:
    verdict = has_permission(action, actor, application)
    if not verdict.allowed:
        raise PortalError(verdict.reason)


def application_decide(
    *,
    application: Application,
    actor: Any,
    outcome: str,
    message: str,
    internal_note: str = "",
    reapply: str = "",
    kind: str = "review",
) -> Decision:
    """A staff member approves or rejects; an override changes an earlier decision.

    ``message`` is what the lodge reads (its page and email); ``internal_note`` only staff
    see; ``reapply`` (a `Reapply`, rejections only) is what the lodge is told it may do next.
    """
    _require("grants.application.decide", actor, application)
    message = clean_message(message)
    internal_note = clean_note(internal_note)
    reapply = _clean_reapply(reapply) if outcome == Status.REJECTED else ""
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
            f"{verb.capitalize()} by {actor.get_username()}: {message} "
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
            message=message,
            internal_note=internal_note,
            reapply=reapply,
        )
        email = _decision_email(locked, decision)
        if email is not None:
            outbox_delay(email, UNDO_SECONDS)
    application.refresh_from_db()
    return decision


def _decision_email(application: Application, decision: Decision) -> OutboxMessage | None:
    return OutboxMessage.objects.filter(
        application=application,
        kind=OutboxMessage.Kind.EMAIL_DECISION,
        dedupe_key=f"email_decision:{application.reference}:{decision.id}",
    ).first()


def undo_deadline(decision: Decision) -> Any:
    return decision.created_at + timedelta(seconds=UNDO_SECONDS)


def application_decision_undo(*, application: Application, actor: Any) -> None:
    """Undo a decision within ``UNDO_SECONDS``, by the person who made it, while its email
    has not gone: the application waits for review again, nothing reached the lodge, the
    budget is as before, and the audit log says so."""
    _require("grants.application.decide", actor, application)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        decision = locked.decisions.in_force().first()
        if decision is None or locked.status not in {Status.APPROVED, Status.REJECTED}:
            raise PortalError(f"{application.reference} has no decision to undo.")
        if decision.decided_by_id != actor.pk or decision.kind != "review":
            raise PortalError(
                "Only the person who decided can undo it, and only their own decision."
            )
        if timezone.now() > undo_deadline(decision):
            raise PortalError(
                f"The minute to undo has passed; the lodge has been told. "
                f"{'Cancel the approval instead.' if locked.status == Status.APPROVED else ''}".strip()
            )
        email = _decision_email(locked, decision)
        held = OutboxMessage.objects.filter(
            id=email.id if email else 0, status=OutboxMessage.Status.PENDING
        )
        if not held.delete()[0]:
            raise PortalError("The email to the lodge has already gone; the decision stands.")
        before = locked.status
        decision.undone_at = timezone.now()
        decision.save(update_fields=["undone_at"])
        locked.move_to(Status.NEEDS_REVIEW, actor=actor)
        locked.decided_at = None
        locked.review_reason = f"Decision undone by {actor.get_username()}"[:200]
        if before == Status.APPROVED:
            locked.grant_date = None
            locked.payment_token = None
            locked.payment_expires_at = None
        locked.save()
        audit_record(
            actor=actor,
            action="application.decision_undone",
            obj=locked,
            before={"status": before},
            after={"status": Status.NEEDS_REVIEW},
            message=f"The {before} decision was undone before its email went to the lodge; "
            f"{locked.reference} waits for review again.",
        )
    application.refresh_from_db()


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
        in_flight = Payment.objects.filter(
            application=locked, status=Payment.Status.PROCESSING
        ).first()
        if in_flight is not None:
            # A bank payment cannot be stopped: cancelling would leave it arriving for nothing.
            raise PortalError(
                f"The lodge's payment of {format_money(in_flight.amount)} is on its way (a bank "
                f"payment Stripe has not settled yet), so {locked.reference} cannot be cancelled "
                "now. Once it is paid, refund it; if it fails, cancel then."
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
    *, references: list[str], actor: Any, outcome: str, message: str, internal_note: str = ""
) -> list[BulkResult]:
    """Decide each application on its own (its own lock and budget check); one result per row."""
    clean_message(message)
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
                application=application,
                actor=actor,
                outcome=outcome,
                message=message,
                internal_note=internal_note,
                kind="bulk",
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
