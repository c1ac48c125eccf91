"""Payments through Stripe, the webhook events seen, the outbox of side effects, the email log."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from grants.models.applications import Application
from grants.models.fields import money_field


class Payment(models.Model):
    """One Stripe Checkout Session for an application's lodge share, and what became of it."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        PAID = "paid", "Paid"

    # Statuses only move up this order: a paid session never goes back.
    RANK = {
        Status.OPEN: 0,
        Status.PROCESSING: 1,
        Status.FAILED: 2,
        Status.EXPIRED: 2,
        Status.PAID: 3,
    }

    # Null only for money Stripe took for no application we know (flagged for finance).
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    stripe_session_id = models.CharField(max_length=255, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    attempt = models.PositiveSmallIntegerField(
        default=1
    )  # the session attempt for this application
    checkout_url = models.URLField(max_length=1000, blank=True)
    session_expires_at = models.DateTimeField(null=True, blank=True)
    amount = money_field()
    currency = models.CharField(max_length=3, default="usd")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    flagged = models.BooleanField(default=False, db_index=True)
    flag_reason = models.CharField(max_length=300, blank=True)
    provider = models.CharField(max_length=10, default="stripe")  # "stripe" or "dev"
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["application", "status"])]

    def __str__(self) -> str:
        return f"{self.stripe_session_id} {self.status} ${self.amount}"


class WebhookEvent(models.Model):
    """A Stripe event id seen once: a replay or a duplicate delivery finds it and does nothing."""

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=300, blank=True)  # what handling it did, for support

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type}"


class OutboxMessage(models.Model):
    """A side effect to carry out after a commit (write-back, email), by ids, at least once."""

    class Kind(models.TextChoices):
        NINOX_WRITE_BACK = "ninox_write_back", "Write the grant back to Ninox"
        EMAIL_DECISION = "email_decision", "Decision email to the lodge"
        EMAIL_VENDOR = "email_vendor", "Email to the fulfillment vendor"
        EMAIL_FINANCE = "email_finance", "Email to finance"
        EMAIL_LODGE_RECEIPT = "email_lodge_receipt", "Receipt to the lodge"
        EMAIL_EXPIRED = "email_expired", "Link-expired email to the lodge"
        EMAIL_PAYMENT_LINK = "email_payment_link", "Payment link to the lodge"
        EMAIL_DIGEST = "email_digest", "Daily digest to reviewers"
        EMAIL_WRITE_BACK_FAILED = "email_write_back_failed", "Write-back refused: email to finance"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What the effect is about, so a second enqueue of the same effect is refused by the database.
    dedupe_key = models.CharField(max_length=200, unique=True)
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="outbox"
    )
    payload = models.JSONField(default=dict)  # ids only, never copies of the data
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"


class EmailLog(models.Model):
    """One email the portal sent or tried to send (shown on the application's timeline)."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(max_length=30)  # the email template's name
    to = models.CharField(max_length=500)
    subject = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices)
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    outbox = models.ForeignKey(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="emails"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One successful send per outbox row: a task re-run after a crash sends nothing twice.
            models.UniqueConstraint(
                fields=["outbox"],
                condition=Q(status="sent", outbox__isnull=False),
                name="one_sent_email_per_outbox_row",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
