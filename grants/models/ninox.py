"""Lodges and grants as mirrored from Ninox (never edited here)."""

from __future__ import annotations

from django.db import models

from grants.models.fields import money_field
from grants.money import ZERO


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
    # Why the lodge counts as inactive when Ninox did not say "no" ("Active is empty in Ninox").
    inactive_reason = models.CharField(max_length=200, blank=True)
    # The Ninox record's sequence when last mirrored: the daily reconciliation re-reads a newer one.
    ninox_sequence = models.PositiveBigIntegerField(null=True, blank=True)
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
    amount = money_field(default=ZERO)
    grant_date = models.DateField(null=True, blank=True)
    fiscal_year = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    charity = models.CharField(max_length=200, blank=True)
    purpose = models.TextField(blank=True)
    status = models.CharField(max_length=40, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    payment = models.CharField(max_length=200, blank=True)
    ninox_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-grant_date", "-ninox_id"]
        indexes = [models.Index(fields=["lodge", "fiscal_year"])]

    def __str__(self) -> str:
        return f"Ninox grant {self.ninox_id} {self.reference or '(by hand)'} ${self.amount}"

    @property
    def counts(self) -> bool:
        return self.status != self.CANCELLED


class NinoxQuarantine(models.Model):
    """A Ninox value the budget rests on that could not be read: kept aside, shown, never $0.

    One row per (table, record, field). It opens when a read finds a value of the wrong
    shape (or a required one missing) and is resolved when a later read of the record is
    clean. While open, the lodge's applications go to a person; a grant whose lodge cannot
    be read (``lodge_ninox_id`` empty) casts that doubt on every lodge.
    """

    table = models.CharField(max_length=100)  # the Ninox table's name, as staff know it
    ninox_id = models.PositiveIntegerField()
    field = models.CharField(max_length=100)  # the Ninox field's name
    raw_value = models.TextField(blank=True)  # the value as received, as JSON text
    reason = models.CharField(max_length=300)
    # The lodge whose figures it touches (its Ninox id); empty: it could be any lodge.
    lodge_ninox_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-last_seen", "table", "ninox_id", "field"]
        constraints = [
            models.UniqueConstraint(
                fields=["table", "ninox_id", "field"], name="one_quarantine_per_ninox_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.table} record {self.ninox_id}, {self.field}: {self.reason}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
