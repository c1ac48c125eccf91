"""Where the month's Ninox calls are heading: the last days' call log, projected to a month.

The health page shows it against ``NINOX_MONTHLY_QUOTA``, so an idle portal that costs
more than it should is seen long before the quota guard pauses background work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Min, Sum
from django.utils import timezone

from ninox_backend.ninox.models import NinoxCall

#: the call log behind the projection
PROJECTION_WINDOW = timedelta(days=3)
#: less history than this projects nothing: the first load's burst would look like a trend
MINIMUM_HISTORY = timedelta(days=1)
MONTH = timedelta(days=30)


@dataclass(frozen=True)
class CallProjection:
    """Calls in the window, and the month they are on course for (``None`` without history)."""

    calls: int
    window: timedelta
    monthly: int | None
    quota: int

    @property
    def over_quota(self) -> bool:
        return self.monthly is not None and self.monthly > self.quota

    @property
    def percent_of_quota(self) -> int | None:
        return None if self.monthly is None else self.monthly * 100 // self.quota

    @property
    def summary(self) -> str:
        """One line for the health page."""
        if self.monthly is None:
            return "not enough call history yet (a day is needed)"
        return (
            f"about {self.monthly:,} calls a month of the quota of {self.quota:,} "
            f"({self.percent_of_quota}%)"
        )

    @property
    def window_label(self) -> str:
        hours = round(self.window.total_seconds() / 3600)
        return f"{round(hours / 24)} day(s)" if hours >= 48 else f"{hours} hour(s)"


def projected_monthly_calls() -> CallProjection:
    """HTTP calls (retries included) in the last ``PROJECTION_WINDOW``, scaled to 30 days."""
    now = timezone.now()
    recent = NinoxCall.objects.filter(at__gte=now - PROJECTION_WINDOW)
    figures = recent.aggregate(calls=Sum("attempts"), first=Min("at"))
    calls = int(figures["calls"] or 0)
    oldest = NinoxCall.objects.aggregate(first=Min("at"))["first"]
    window = PROJECTION_WINDOW if oldest is None else min(PROJECTION_WINDOW, now - oldest)
    monthly = None
    if window >= MINIMUM_HISTORY:
        monthly = round(calls * (MONTH / window))
    return CallProjection(
        calls=calls, window=window, monthly=monthly, quota=int(settings.NINOX_MONTHLY_QUOTA)
    )
