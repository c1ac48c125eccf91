"""Fiscal years: which one a date or moment belongs to, and how it is labelled and shown.

The foundation's year runs May 1 to April 30 by default ("FY 2026-27"); the start is a
setting, given here as a ``(month, day)`` tuple.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

DEFAULT_START: tuple[int, int] = (5, 1)
DEFAULT_TZ = "America/Chicago"

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: date) -> str:
    """``May 1, 2026``: English month name, no leading zero, whatever the locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def check_start(start: tuple[int, int]) -> tuple[int, int]:
    """Return ``start`` if it is a usable ``(month, day)`` start; otherwise `ValueError`.

    Feb 29 is refused: a fiscal year must start on a day every year has.
    """
    if (
        not isinstance(start, tuple)
        or len(start) != 2
        or not all(isinstance(part, int) and not isinstance(part, bool) for part in start)
    ):
        raise ValueError(
            f"A fiscal-year start is a (month, day) pair of whole numbers, not {start!r}."
        )
    month, day = start
    try:
        date(2001, month, day)  # a non-leap year, so Feb 29 is refused
    except ValueError:
        raise ValueError(
            f"A fiscal year cannot start on month {month}, day {day}: "
            "it must be a day that every year has (not Feb 29)."
        ) from None
    return start


class FiscalStarts(tuple[int, int]):
    """A ``(month, day)`` start that also knows when it changes.

    The pair itself is the start of the current fiscal year; ``base`` is the first start,
    and ``changes`` holds ``(first key, (month, day))`` pairs: from the fiscal year with that
    key (its start year) on, years start on the new day. The year before a change is the
    transition year: it starts on the old day and ends the day before the new one.
    """

    base: tuple[int, int]
    changes: tuple[tuple[int, tuple[int, int]], ...]

    def __new__(
        cls,
        current: tuple[int, int],
        base: tuple[int, int] | None = None,
        changes: tuple[tuple[int, tuple[int, int]], ...] = (),
    ) -> FiscalStarts:
        made = super().__new__(cls, check_start(tuple(current)))  # type: ignore[arg-type]
        made.base = check_start(tuple(base or current))  # type: ignore[arg-type]
        made.changes = tuple(sorted(changes))
        return made

    def for_key(self, key: int) -> tuple[int, int]:
        """The start of the fiscal year with ``key``."""
        start = self.base
        for first, changed in self.changes:
            if first <= key:
                start = changed
        return start

    def __reduce__(self) -> tuple[object, ...]:
        return (FiscalStarts, (tuple(self), self.base, self.changes))


@dataclass(frozen=True)
class FiscalYear:
    """One fiscal year, from ``start`` to ``end`` inclusive."""

    start: date
    end: date
    # The schedule it came from, when the start changes over the years (next/previous use it).
    starts: FiscalStarts | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(
                f"A fiscal year cannot end ({self.end}) before it starts ({self.start})."
            )

    @classmethod
    def from_key(cls, year: int, start: tuple[int, int] = DEFAULT_START) -> FiscalYear:
        """The fiscal year that starts in calendar ``year`` on the ``(month, day)`` ``start``."""
        if isinstance(start, FiscalStarts):
            first, following = start.for_key(year), start.for_key(year + 1)
            return cls(
                start=date(year, *first),
                end=date(year + 1, *following) - timedelta(days=1),
                starts=start,
            )
        month, day = check_start(start)
        # date() raises ValueError itself for years outside 1..9999.
        return cls(start=date(year, month, day), end=date(year + 1, month, day) - timedelta(days=1))

    @property
    def key(self) -> int:
        """The calendar year the fiscal year starts in: FY 2026-27 → 2026."""
        return self.start.year

    @property
    def label(self) -> str:
        """``FY 2026-27``; ``FY 2026`` when the year is a calendar year."""
        if self.start.year == self.end.year:
            return f"FY {self.start.year}"
        return f"FY {self.start.year}-{self.end.year % 100:02d}"

    @property
    def span(self) -> str:
        """``May 1, 2026 \N{EN DASH} April 30, 2027``: an en dash, no leading zeros."""
        return f"{long_date(self.start)} \N{EN DASH} {long_date(self.end)}"

    def contains(self, day: date) -> bool:
        """Whether ``day`` (a plain date) falls in this fiscal year."""
        return self.start <= day <= self.end

    def next(self) -> FiscalYear:
        """The fiscal year that starts the day after this one ends."""
        return FiscalYear.from_key(self.key + 1, self.starts or (self.start.month, self.start.day))

    def previous(self) -> FiscalYear:
        """The fiscal year that ends the day before this one starts."""
        return FiscalYear.from_key(self.key - 1, self.starts or (self.start.month, self.start.day))

    @property
    def months(self) -> int:
        """How many months it spans (12 but for a transition year)."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def __str__(self) -> str:
        return self.label


def fiscal_year(
    when: date | datetime,
    start: tuple[int, int] = DEFAULT_START,
    tz: str | tzinfo = DEFAULT_TZ,
) -> FiscalYear:
    """The fiscal year containing ``when``.

    A plain `date` is taken as it is. A `datetime` must be aware: it is converted to ``tz``
    (the portal's time zone) and its local date decides, so 2027-05-01 04:30 UTC is still
    April 30 in Chicago and belongs to FY 2026-27. A naive datetime raises `ValueError`.
    """
    check_start(start)
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("A datetime must carry its time zone to find its fiscal year.")
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        local = when.astimezone(zone).date()
    else:
        local = when
    if isinstance(start, FiscalStarts):
        month, day = start.for_key(local.year)
        year = local.year if (local.month, local.day) >= (month, day) else local.year - 1
        return FiscalYear.from_key(year, start)
    month, day = start
    year = local.year if (local.month, local.day) >= (month, day) else local.year - 1
    return FiscalYear.from_key(year, (month, day))
