"""What the drift check found: a lodge whose FY total in the mirror disagrees with Ninox's."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q

from grants.models.fields import money_field
from grants.models.ninox import Lodge


class DriftFinding(models.Model):
    """The mirror's FY total for a lodge differed from Ninox's own ``sum(...)``.

    Open (``resolved_at`` empty) while the figures still differ after the lodge's grants
    were read again; a lodge with an open finding has its applications sent to review.
    A later clean check (or a re-read that makes the figures agree) resolves it.
    """

    lodge = models.ForeignKey(Lodge, on_delete=models.CASCADE, related_name="drift_findings")
    fiscal_year = models.PositiveSmallIntegerField()  # start year: 2026 is FY 2026-27
    mirror_total = money_field()
    ninox_total = money_field()
    found_at = models.DateTimeField()
    checked_at = models.DateTimeField()  # the last check that saw the figures differ
    reread_at = models.DateTimeField(null=True, blank=True)  # the lodge's grants read again
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lodge", "fiscal_year"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_drift_finding_per_lodge_year",
            )
        ]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return (
            f"drift {state}: lodge {self.lodge_id} FY{self.fiscal_year} "
            f"mirror ${self.mirror_total} vs Ninox ${self.ninox_total}"
        )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def difference(self) -> Decimal:
        return self.ninox_total - self.mirror_total
