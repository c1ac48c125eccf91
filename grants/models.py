"""Lodges and grants mirrored from Ninox; applications, decisions, rules and the budget lock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


def money_field(**options: Any) -> models.DecimalField[Decimal, Decimal]:
    """Dollars and cents: never a float."""
    return models.DecimalField(max_digits=12, decimal_places=2, **options)


class Lodge(models.Model):
    """A lodge, mirrored from Ninox's Lodges table (never edited here)."""

    ninox_id = models.PositiveIntegerField(unique=True)
    number = models.PositiveIntegerField(db_index=True)
    name = models.CharField(max_length=200)
    district = models.CharField(max_length=100, blank=True, db_index=True)
    city = models.CharField(max_length=100, blank=True)
    secretary = models.CharField(max_length=200, blank=True)
    secretary_email = models.CharField(max_length=254, blank=True)
    active = models.BooleanField(default=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return (
            f"{self.name} (No. {self.number})" if str(self.number) not in self.name else self.name
        )


class NinoxGrant(models.Model):
    """A grant as Ninox's Grants table holds it (by the portal's write-back or by hand)."""

    CANCELLED = "Cancelled"

    ninox_id = models.PositiveIntegerField(unique=True)
    lodge = models.ForeignKey(
        Lodge, null=True, blank=True, on_delete=models.SET_NULL, related_name="ninox_grants"
    )
    lodge_ninox_id = models.PositiveIntegerField(null=True, blank=True)
    reference = models.CharField(max_length=40, blank=True, db_index=True)
    amount = money_field(default=Decimal("0.00"))
    grant_date = models.DateField(null=True, blank=True)
    fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    charity = models.CharField(max_length=200, blank=True)
    purpose = models.TextField(blank=True)
    status = models.CharField(max_length=40, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.CharField(max_length=200, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-grant_date", "-ninox_id"]
        indexes = [models.Index(fields=["lodge", "fiscal_year"])]

    def __str__(self) -> str:
        return f"Ninox grant {self.ninox_id} {self.reference or '(by hand)'} ${self.amount}"

    @property
    def counts(self) -> bool:
        return self.status != self.CANCELLED


class GrantRules(models.Model):
    """The grant rules, with history: the row in force at a moment is the newest before it."""

    version = models.PositiveIntegerField(unique=True)
    effective_from = models.DateTimeField(db_index=True)
    annual_cap = money_field()
    fiscal_year_start_month = models.PositiveSmallIntegerField()
    fiscal_year_start_day = models.PositiveSmallIntegerField()
    match_ratio = models.DecimalField(max_digits=6, decimal_places=3)
    auto_approve_limit = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    payment_link_days = models.PositiveSmallIntegerField()
    vendor_email = models.EmailField()
    finance_email = models.EmailField()
    digest_hour = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-effective_from", "-version"]

    def __str__(self) -> str:
        return f"Grant rules v{self.version} from {self.effective_from:%Y-%m-%d}"

    @property
    def fiscal_year_start(self) -> tuple[int, int]:
        return (self.fiscal_year_start_month, self.fiscal_year_start_day)


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


class ApiToken(models.Model):
    """A bearer token for the foundation's website. Only a hash is stored."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class IdempotentReply(models.Model):
    """The first reply to a POST with an ``Idempotency-Key``, returned again on a retry."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_reply_per_key")]

    def __str__(self) -> str:
        return f"{self.token_id}:{self.key}"

    def as_response_body(self) -> Any:
        return self.body
