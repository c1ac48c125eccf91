"""The monthly Ninox quota guard: count this month's calls, pause background syncs near the cap.

Every process records its calls in the ``NinoxCall`` log, so the count here is the
whole portal's (web, workers, beat). Past ``NINOX_QUOTA_PAUSE_SHARE`` of
``NINOX_MONTHLY_QUOTA`` (default 90%) background syncs stop; the calls a decision
needs are never refused here. Months are calendar months in UTC (Ninox does not
document when its quota resets; the emulator's quota fault uses the same rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

__all__ = [
    "DEFAULT_PAUSE_SHARE",
    "QuotaState",
    "background_sync_allowed",
    "calls_this_month",
    "month_start",
    "quota_state",
]

DEFAULT_PAUSE_SHARE = Decimal("0.90")


@dataclass(frozen=True)
class QuotaState:
    """This month's Ninox calls against the quota, and whether background syncs pause."""

    used: int
    quota: int
    #: used / quota, exact (may exceed 1)
    share: Decimal
    #: the share at which background syncs pause
    pause_share: Decimal
    background_paused: bool

    @property
    def percent(self) -> int:
        """Whole percent used, rounded down (so "90%" is shown only once 90% is reached)."""
        return int((self.share * 100).to_integral_value(rounding=ROUND_FLOOR))

    @property
    def message(self) -> str:
        """One line for the health page."""
        text = f"Ninox calls this month: {self.used:,} of {self.quota:,} ({self.percent}%)"
        if self.background_paused:
            return f"{text}; background syncs are paused."
        return f"{text}."


def month_start(now: datetime | None = None) -> datetime:
    """Midnight UTC on the first of ``now``'s month (UTC)."""
    now = (now or timezone.now()).astimezone(UTC)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def calls_this_month(now: datetime | None = None) -> int:
    """HTTP requests sent to Ninox since the month began (each attempt counts), all processes."""
    from .models import NinoxCall

    total = NinoxCall.objects.filter(at__gte=month_start(now)).aggregate(n=Sum("attempts"))["n"]
    return int(total or 0)


def pause_share() -> Decimal:
    return Decimal(str(getattr(settings, "NINOX_QUOTA_PAUSE_SHARE", DEFAULT_PAUSE_SHARE)))


def quota_state(now: datetime | None = None) -> QuotaState:
    """Where this month's usage stands (one aggregate query on the call log)."""
    used = calls_this_month(now)
    quota = int(settings.NINOX_MONTHLY_QUOTA)
    share = Decimal(used) / Decimal(quota)
    threshold = pause_share()
    return QuotaState(
        used=used,
        quota=quota,
        share=share,
        pause_share=threshold,
        background_paused=share >= threshold,
    )


def background_sync_allowed(now: datetime | None = None) -> bool:
    """False once this month's calls reach the pause share of the quota."""
    return not quota_state(now).background_paused
