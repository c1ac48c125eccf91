"""What a lodge reads about a decision, and what it may do next (its page and its email).

A staff decision's *message* is for the lodge; its internal note never is. The "what next"
follows the outcome and the reviewer's choice: it never invites a new application when the
reviewer ruled that out, or when nothing remains this fiscal year (then it names the day
the next one starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from grants.fiscal_year import long_date
from grants.models import Application, Decision, Reapply, Status
from grants.money import format_money
from grants.selectors.figures import LodgeRemaining, lodge_remaining

STAFF_KINDS = ("review", "override", "bulk")
ASK_FIRST = (
    "The grants team's message above says why. Please write to them before your lodge "
    "applies again for this."
)


@dataclass(frozen=True)
class LodgeNews:
    message: str  # what the lodge reads about the decision
    from_staff: bool  # the message is a person's (labelled so)
    what_next: str
    apply_for: Decimal | None  # a prefilled application for what remains is offered


def lodge_message(decision: Decision | None) -> str:
    """The decision as the lodge reads it: a person's message, or the portal's explanation."""
    if decision is None:
        return ""
    if decision.kind in STAFF_KINDS:
        return decision.message
    return decision.explanation


def lodge_news(application: Application, decision: Decision | None) -> LodgeNews:
    from_staff = decision is not None and decision.kind in STAFF_KINDS
    message = lodge_message(decision)
    if application.status != Status.REJECTED:
        return LodgeNews(message, from_staff, "", None)
    budget = lodge_remaining(application.lodge.id) if application.lodge else None
    return LodgeNews(message, from_staff, *_after_rejection(application, decision, budget))


def _after_rejection(
    application: Application, decision: Decision | None, budget: LodgeRemaining | None
) -> tuple[str, Decimal | None]:
    reapply = decision.reapply if decision else ""
    lodge = application.lodge
    if reapply == Reapply.NO or budget is None or (lodge is not None and not lodge.active):
        return (
            "This decision is final: please do not apply again for this.",
            None,
        )
    next_start = long_date(budget.next_start)
    nothing = (
        f"Nothing remains of your lodge's cap for {budget.fy.label}. " if budget.left <= 0 else ""
    )
    if reapply == "" and _staff_rejected_within_budget(decision):
        # A person rejected what the budget allowed: the reason was theirs, not the budget's,
        # so the page never invites a new application that their message may rule out.
        if budget.left <= 0:
            nothing = (
                f"Nothing remains of your lodge's cap for {budget.fy.label}; the next fiscal "
                f"year starts on {next_start}. "
            )
        return (f"{nothing}{ASK_FIRST}", None)
    if reapply == Reapply.NEXT_YEAR or budget.left <= 0:
        return (
            f"{nothing}Your lodge may apply again from {next_start}, "
            "when the next fiscal year starts.",
            None,
        )
    # Asked more than remains: offer the same application for what remains.
    offer = budget.left if application.amount_requested > budget.left else None
    return (
        f"Your lodge may apply again this fiscal year for a match of no more than "
        f"{format_money(budget.left)}, or for up to {format_money(budget.next_cap)} from "
        f"{next_start}, when the next fiscal year starts.",
        offer,
    )


def _staff_rejected_within_budget(decision: Decision | None) -> bool:
    """A person's rejection of a match the lodge's remaining budget allowed."""
    return (
        decision is not None
        and decision.kind in STAFF_KINDS
        and decision.requested <= decision.remaining
    )
