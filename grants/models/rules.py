"""The grant rules, with history."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from grants.models.fields import money_field


class GrantRules(models.Model):
    """The grant rules, with history.

    Two kinds of rule share a row. The **operational settings** (addresses, payment-link
    days, digest hour, the fiscal-year start) are the newest row's, in force at once. The
    **programme rules** (cap, match ratio, auto-approve limit) belong to fiscal years: a row
    sets them from ``fiscal_year_from`` on, so a year keeps the rules it was decided under
    (``grants.rules`` picks them).
    """

    PROGRAMME = ("annual_cap", "match_ratio", "auto_approve_limit")

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
    # The apply form shows what the lodge has left this fiscal year as its number is typed.
    show_remaining_on_apply = models.BooleanField(default=True)
    # The fiscal year (its start year: 2026 is FY 2026-27) whose programme rules this row sets.
    fiscal_year_from = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)  # why the admin changed the rules
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
        """The ``(month, day)`` start; on rules from ``grants.rules``, a ``FiscalStarts`` that
        also knows when an admin's new start takes effect (at the next boundary)."""
        return getattr(self, "fiscal_starts", None) or (
            self.fiscal_year_start_month,
            self.fiscal_year_start_day,
        )
