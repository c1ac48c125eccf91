"""Payments through Stripe, the webhook events seen, the outbox of side effects, the email log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from grants.models.applications import Application
from grants.models.fields import money_field
from grants.money import ZERO


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
    # The charge behind the session, and its cumulative ``amount_refunded`` as of the newest
    # charge event applied (``refunds_as_of``, the event's own time): an older event changes nothing.
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    amount_refunded = money_field(default=ZERO)
    refunds_as_of = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["application", "status"])]

    def __str__(self) -> str:
        return f"{self.stripe_session_id} {self.status} ${self.amount}"


class Refund(models.Model):
    """One refund of a payment, asked for in the portal or seen in Stripe's events.

    Only a succeeded refund releases anything: a pending one is subtracted from the charge's
    ``amount_refunded`` until it succeeds, a failed one Stripe takes out of it again.
    """

    class Status(models.TextChoices):
        REQUESTING = "requesting", "Being requested"  # the portal is asking Stripe now
        PENDING = "pending", "Pending"
        REQUIRES_ACTION = "requires_action", "Requires action"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    # Not final: their amount may be in the charge's amount_refunded, but releases nothing yet.
    UNSETTLED = (Status.REQUESTING, Status.PENDING, Status.REQUIRES_ACTION)
    # Statuses only move up this order (an older event never undoes a newer one).
    RANK = {
        Status.REQUESTING: 0,
        Status.PENDING: 1,
        Status.REQUIRES_ACTION: 1,
        Status.SUCCEEDED: 2,
        Status.FAILED: 3,
        Status.CANCELED: 3,
    }

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    # Empty only while the portal's request is on its way to Stripe.
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    amount = money_field()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTING)
    reason = models.TextField(blank=True)  # Finance's reason, or "made in Stripe"
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150, blank=True)  # a username, or "stripe"
    error = models.CharField(max_length=300, blank=True)
    stripe_created = models.DateTimeField(null=True, blank=True)  # when Stripe made it
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.stripe_refund_id or 'refund #' + str(self.pk)} {self.status} ${self.amount}"


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
        NINOX_REFUND = "ninox_refund", "Write the refund to Ninox"
        EMAIL_REFUND_LODGE = "email_refund_lodge", "Refund email to the lodge"
        EMAIL_REFUND_VENDOR = "email_refund_vendor", "Refund email to the vendor"
        EMAIL_REFUND_FINANCE = "email_refund_finance", "Refund email to finance"
        EMAIL_CANCELLED = "email_cancelled", "Cancellation email to the lodge"

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
