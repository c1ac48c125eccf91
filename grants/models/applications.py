"""Applications, their decisions, the per-(lodge, fiscal year) budget lock, references."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from grants.models.fields import money_field
from grants.models.ninox import Lodge


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    NEEDS_REVIEW = "needs_review", "Needs review"
    PAID = "paid", "Paid"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


# Approvals that hold part of a lodge's budget until Ninox has them.
RESERVING = (Status.APPROVED, Status.PAID)


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

    def payment_link_expired(self, now: datetime) -> bool:
        """True when the payment link has an end and ``now`` is at or past it."""
        return self.payment_expires_at is not None and self.payment_expires_at <= now

    @property
    def gift(self) -> Decimal:
        """What the vendor issues: the lodge's share plus the foundation's match."""
        return self.amount_raised + self.amount_requested


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
    reason = models.TextField(blank=True)  # a reviewer's reason, or why it went to review
    cap = money_field()
    used_ninox = money_field()
    pending_portal = money_field()
    remaining = money_field()
    requested = money_field()
    rules_version = models.PositiveIntegerField()
    ninox_fresh = models.BooleanField(default=True)
    explanation = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

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
    decisions = models.PositiveIntegerField(default=0)
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
