"""The budget rule as a pure function: given the figures, approve, reject or send to review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from grants.fiscal_year import FiscalYear
from grants.money import ZERO, format_money
from grants.plain_words import (
    FIGURES_NEED_CHECKING,
    FIGURES_UNCONFIRMED,
    LODGE_INACTIVE,
    for_lodge,
)

APPROVED, REJECTED, NEEDS_REVIEW = "approved", "rejected", "needs_review"


@dataclass(frozen=True)
class Budget:
    """A lodge's figures for one fiscal year (``grants.selectors.budgets`` reads them)."""

    cap: Decimal
    used_ninox: Decimal
    pending_portal: Decimal

    @property
    def used(self) -> Decimal:
        return self.used_ninox + self.pending_portal

    @property
    def remaining(self) -> Decimal:
        return self.cap - self.used


@dataclass(frozen=True)
class Verdict:
    outcome: str
    reason: str  # why it went to review ("" otherwise)
    explanation: str


def budget_sentence(lodge_number: int, budget: Budget, fy: FiscalYear) -> str:
    if budget.used > budget.cap:  # a cap lowered below what the lodge had already received
        return (
            f"Lodge {lodge_number} has used {format_money(budget.used)} for {fy.label} "
            f"({fy.span}), over the cap of {format_money(budget.cap)}"
        )
    return (
        f"Lodge {lodge_number} has used {format_money(budget.used)} of its "
        f"{format_money(budget.cap)} for {fy.label} ({fy.span})"
    )


def decide(
    *,
    lodge_number: int,
    lodge_active: bool,
    budget: Budget,
    requested: Decimal,
    fy: FiscalYear,
    auto_approve_limit: Decimal | None,
    ninox_fresh: bool,
    doubts: Sequence[str] = (),
    inactive_reason: str = "",
    stale_reason: str = "",
) -> Verdict:
    """Reject over the remaining budget whatever else applies; review what cannot be sure.

    ``doubts`` are reasons the figures themselves cannot be trusted (a Ninox value that
    could not be read, a total that disagrees with Ninox): then nothing is decided on
    them, not even a rejection, and a person looks. ``inactive_reason`` says why a lodge
    Ninox did not mark inactive counts as one ("Active is empty in Ninox");
    ``stale_reason`` why the mirror could not be refreshed.
    """
    figures = budget_sentence(lodge_number, budget, fy)
    remaining = budget.remaining
    if requested > remaining and not doubts:
        shown = max(remaining, ZERO)
        return Verdict(
            REJECTED,
            "",
            f"{figures}; {format_money(shown)} remains and {format_money(requested)} was requested.",
        )
    after = remaining - requested
    # Staff read ``reasons`` as they are; the lodge reads ``told`` (never our machinery's names).
    reasons = list(doubts)
    told = [for_lodge(doubt, instead=FIGURES_NEED_CHECKING) for doubt in doubts]
    if not ninox_fresh:
        reasons.append(stale_reason or "Ninox unreachable: the budget could not be confirmed")
        told.append(FIGURES_UNCONFIRMED)
    if not lodge_active:
        reasons.append(
            f"Lodge {lodge_number} counts as inactive: {inactive_reason}"
            if inactive_reason
            else f"Lodge {lodge_number} is inactive in Ninox"
        )
        told.append(LODGE_INACTIVE)
    if auto_approve_limit is not None and requested > auto_approve_limit:
        reasons.append(
            f"the match is above the auto-approve limit of {format_money(auto_approve_limit)}"
        )
        told.append(reasons[-1])
    if reasons:
        reason = "; ".join(reasons)
        plain = "; ".join(dict.fromkeys(told))  # each plain reason once
        return Verdict(
            NEEDS_REVIEW,
            reason[0].upper() + reason[1:],
            f"{figures}; {format_money(max(remaining, ZERO))} remains and "
            f"{format_money(requested)} was requested. A person will review it because {plain}.",
        )
    return Verdict(
        APPROVED,
        "",
        f"{figures}; {format_money(remaining)} remained and {format_money(requested)} is now reserved "
        f"for this grant, leaving {format_money(after)}.",
    )
