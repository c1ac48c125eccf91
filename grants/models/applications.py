"""Applications, their status transitions and decisions, the budget lock row, references."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from grants.models.fields import money_field
from grants.models.ninox import Lodge
from grants.money import ZERO
from portal.lib.errors import PortalError
from portal.permissions import has_permission


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    NEEDS_REVIEW = "needs_review", "Needs review"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


# Approvals that hold part of a lodge's budget until Ninox has them.
RESERVING = (Status.APPROVED, Status.PAID)

DECIDE = "grants.application.decide"
REFUND = "grants.payment.refund"


@dataclass(frozen=True)
class Transition:
    """One allowed status change.

    ``permission`` is the action a person needs to make it (``None``: no person may);
    ``automatic`` says the portal itself may make it (the intake decision, Stripe's
    webhook, the expiry sweep); ``releases`` says the match stops counting against the
    lodge's budget.
    """

    source: Status
    target: Status
    permission: str | None
    automatic: bool
    releases: bool


# Every status change an application can make, declared once; anything else is refused.
TRANSITIONS: tuple[Transition, ...] = (
    # The intake decides every application at once; a person may decide one not yet decided.
    Transition(Status.SUBMITTED, Status.APPROVED, DECIDE, automatic=True, releases=False),
    Transition(Status.SUBMITTED, Status.REJECTED, DECIDE, automatic=True, releases=False),
    Transition(Status.SUBMITTED, Status.NEEDS_REVIEW, None, automatic=True, releases=False),
    Transition(Status.NEEDS_REVIEW, Status.APPROVED, DECIDE, automatic=False, releases=False),
    Transition(Status.NEEDS_REVIEW, Status.REJECTED, DECIDE, automatic=False, releases=False),
    # Overrides of an earlier decision.
    Transition(Status.APPROVED, Status.REJECTED, DECIDE, automatic=False, releases=True),
    Transition(Status.REJECTED, Status.APPROVED, DECIDE, automatic=False, releases=False),
    Transition(Status.APPROVED, Status.CANCELLED, DECIDE, automatic=False, releases=True),
    # Undo: within a minute of a decision, before its email has gone, by the person who made
    # it (`grants.services.review.application_decision_undo` holds those conditions).
    Transition(Status.APPROVED, Status.NEEDS_REVIEW, DECIDE, automatic=False, releases=True),
    Transition(Status.REJECTED, Status.NEEDS_REVIEW, DECIDE, automatic=False, releases=False),
    # Stripe's webhook: the lodge paid its share; the match stays spent.
    Transition(Status.APPROVED, Status.PAID, None, automatic=True, releases=False),
    # The expiry sweep: the link ran out unpaid.
    Transition(Status.APPROVED, Status.EXPIRED, None, automatic=True, releases=True),
    # Stripe's charge says the whole share came back (a refund by Finance through the
    # portal, or one made in Stripe's dashboard): the whole match returns to the budget.
    # A partial refund keeps the status and releases part of the match (``match_released``).
    Transition(Status.PAID, Status.REFUNDED, REFUND, automatic=True, releases=True),
    # Stripe's charge then says less came back (a refund failed after it succeeded): the match
    # counts against the budget again (``grants.services.refunds``), and Ninox is told.
    Transition(Status.REFUNDED, Status.PAID, None, automatic=True, releases=False),
)
_TRANSITIONS = {(t.source, t.target): t for t in TRANSITIONS}

# Where a person's decision (approve or reject) may start from, as TRANSITIONS declares:
# the undecided statuses, and the decided ones (an override, from the application's page).
DECIDABLE = frozenset(
    t.source
    for t in TRANSITIONS
    if t.permission == DECIDE and t.target in (Status.APPROVED, Status.REJECTED)
)
# Still waiting for a decision: the review queue offers to decide only these.
AWAITING_DECISION = frozenset({Status.SUBMITTED, Status.NEEDS_REVIEW})


class IllegalTransition(PortalError):
    """A status change that ``TRANSITIONS`` does not allow (or not to this actor)."""


def transition_between(source: str, target: str) -> Transition:
    """The declared transition from ``source`` to ``target``; `IllegalTransition` if none."""
    found = _TRANSITIONS.get((Status(source), Status(target)))
    if found is None:
        raise IllegalTransition(
            f"An application cannot go from {Status(source).label.lower()} "
            f"to {Status(target).label.lower()}."
        )
    return found


class Application(models.Model):
    """A lodge's application for a matching grant."""

    reference = models.CharField(max_length=20, unique=True)
    lodge = models.ForeignKey(
        Lodge, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    lodge_number = models.PositiveIntegerField(db_index=True)
    contact_name = models.CharField(max_length=200)
    contact_email = models.CharField(max_length=254)
    charity_name = models.CharField(max_length=200)
    purpose = models.TextField(max_length=2000)
    amount_raised = money_field()  # the lodge's share, paid through Stripe
    amount_requested = money_field()  # the match: what counts against the cap
    event_date = models.DateField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    fiscal_year = models.PositiveSmallIntegerField(db_index=True)  # start year: 2026 is FY 2026-27
    grant_date = models.DateField(null=True, blank=True)  # the approval's local date
    source = models.CharField(max_length=10, default="web")  # "web" or "api"
    # The API token that submitted it (API applications only), for the audit trail. PROTECT:
    # tokens end by revocation, never deletion, and deleting one must not erase provenance.
    api_token = models.ForeignKey(
        "grants.ApiToken",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
    )
    submitted_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    review_reason = models.CharField(max_length=200, blank=True)
    payment_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    payment_expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    ninox_record_id = models.PositiveIntegerField(null=True, blank=True)
    written_back_at = models.DateTimeField(null=True, blank=True)
    # The lodge's share Stripe has refunded for good (pending refunds excluded), and the part
    # of the match that returned to the lodge's budget with it; both only ever grow.
    refunded_share = money_field(default=ZERO)
    match_released = money_field(default=ZERO)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [
            models.Index(fields=["lodge", "fiscal_year", "status"]),
            models.Index(fields=["status", "submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_requested__gt=0), name="application_requested_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_raised__gt=0), name="application_raised_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def move_to(self, target: str, *, actor: Any) -> Transition:
        """Set ``status`` to ``target`` if ``TRANSITIONS`` allows it to ``actor``; the caller saves.

        ``actor`` is a signed-in user (who needs the transition's permission) or a name
        for the portal itself (``"auto-decision"``, ``"stripe webhook"``...), which may
        make only the automatic transitions. Raises `IllegalTransition` otherwise.
        """
        transition = transition_between(self.status, target)
        if getattr(actor, "is_authenticated", False):
            if transition.permission is None:
                raise IllegalTransition(
                    f"Only the portal itself moves an application to {transition.target.label.lower()}."
                )
            verdict = has_permission(transition.permission, actor, self)
            if not verdict.allowed:
                raise IllegalTransition(verdict.reason)
        elif not transition.automatic:
            raise IllegalTransition(
                f"Only a person may move an application from {transition.source.label.lower()} "
                f"to {transition.target.label.lower()}."
            )
        self.status = transition.target
        return transition

    def payment_link_expired(self, now: datetime) -> bool:
        """True when the payment link has an end and ``now`` is at or past it."""
        return self.payment_expires_at is not None and self.payment_expires_at <= now

    @property
    def gift(self) -> Decimal:
        """What the vendor issues: the lodge's share plus the foundation's match."""
        return self.amount_raised + self.amount_requested

    @property
    def match_kept(self) -> Decimal:
        """The match that stays granted after refunds: what counts against the cap."""
        return self.amount_requested - self.match_released

    @property
    def share_kept(self) -> Decimal:
        """The lodge's share the foundation keeps after refunds."""
        return self.amount_raised - self.refunded_share

    @property
    def gift_kept(self) -> Decimal:
        """The gift after refunds: the share kept plus the match that stays."""
        return self.share_kept + self.match_kept


class Reapply(models.TextChoices):
    """What a rejected lodge may do next, as a reviewer says (the lodge's page follows it)."""

    THIS_YEAR = "this_year", "Apply again this fiscal year, for no more than what remains"
    NEXT_YEAR = "next_year", "Apply again once the next fiscal year starts"
    NO = "no", "Not apply again for this (not eligible)"


class DecisionQuerySet(models.QuerySet["Decision"]):
    def in_force(self) -> DecisionQuerySet:
        """The decisions not undone, newest first: ``.first()`` is the decision in force (an
        undone one never reached the lodge, nor counted)."""
        return self.filter(undone_at__isnull=True).order_by("-created_at", "-id")


class Decision(models.Model):
    """Who or what decided an application, with the figures it used and its explanation."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        NEEDS_REVIEW = "needs_review", "Needs review"
        CANCELLED = "cancelled", "Cancelled"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="decisions")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150)  # a username, or "auto-decision"
    kind = models.CharField(max_length=20, default="auto")  # auto, review, override, bulk
    reason = models.TextField(blank=True)  # why the portal sent it to review (automatic only)
    # A staff decision's words: the message the lodge reads, and a note only staff see.
    message = models.TextField(blank=True)
    internal_note = models.TextField(blank=True)
    # What the lodge may do next, as the reviewer said (blank: as the budget allows).
    reapply = models.CharField(max_length=12, choices=Reapply.choices, blank=True)
    cap = money_field()
    used_ninox = money_field()
    pending_portal = money_field()
    remaining = money_field()
    requested = money_field()
    rules_version = models.PositiveIntegerField()
    ninox_fresh = models.BooleanField(default=True)
    explanation = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Undone by its decider within the minute its email waited: it never reached the lodge,
    # so the lodge's pages and the API read the decision before it (history keeps it).
    undone_at = models.DateTimeField(null=True, blank=True)

    objects = DecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.outcome} by {self.decided_by_name}"

    @property
    def used(self) -> Decimal:
        return self.used_ninox + self.pending_portal


class LodgeBudget(models.Model):
    """One row per (lodge, fiscal year): the lock taken around every budget decision."""

    lodge = models.ForeignKey(Lodge, on_delete=models.CASCADE, related_name="budgets")
    fiscal_year = models.PositiveSmallIntegerField()
    decisions = models.PositiveIntegerField(default=0)  # taken under the lock, intake and staff
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lodge", "fiscal_year"], name="one_budget_per_lodge_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lodge_id} FY{self.fiscal_year}"


class ReferenceCounter(models.Model):
    """The last number used for each year's references (MG-2026-00042)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
