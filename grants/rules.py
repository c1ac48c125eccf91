"""The grant rules in force: operational settings from the newest version, programme rules
(cap, match ratio, auto-approve limit) from the version that set them for the fiscal year.

The first row is seeded from the ``GRANT_*`` settings; admins add later versions. A change
to the programme rules names the fiscal year it starts in, so each year keeps the rules it
was decided under; a decision also records the figures it used.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from grants.fiscal_year import FiscalStarts, FiscalYear, fiscal_year
from grants.models import GrantRules

P = ParamSpec("P")
R = TypeVar("R")

SEED_FROM = datetime(2000, 1, 1, tzinfo=timezone.get_default_timezone())


def _seed_from_settings() -> GrantRules:
    month, day = settings.GRANT_FISCAL_YEAR_START
    try:
        with transaction.atomic():
            return GrantRules.objects.create(
                version=1,
                effective_from=SEED_FROM,
                fiscal_year_from=SEED_FROM.year - 1,  # every fiscal year there is
                annual_cap=settings.GRANT_ANNUAL_CAP,
                fiscal_year_start_month=month,
                fiscal_year_start_day=day,
                match_ratio=settings.GRANT_MATCH_RATIO,
                auto_approve_limit=settings.GRANT_AUTO_APPROVE_LIMIT,
                payment_link_days=settings.GRANT_PAYMENT_LINK_DAYS,
                vendor_email=settings.GRANT_VENDOR_EMAIL,
                finance_email=settings.GRANT_FINANCE_EMAIL,
                digest_hour=settings.GRANT_DIGEST_HOUR,
            )
    except IntegrityError:  # another process seeded it first
        return GrantRules.objects.get(version=1)


class _Snapshot:
    """The versions as one read found them: read at the first lookup, then kept."""

    rows: list[GrantRules] | None = None

    def versions(self) -> list[GrantRules]:
        if self.rows is None:
            self.rows = list(GrantRules.objects.all())
        return self.rows


_SNAPSHOT: ContextVar[_Snapshot | None] = ContextVar("rules_snapshot", default=None)


def rules_versions(at: datetime) -> list[GrantRules]:
    """Every version made by ``at`` (a handful of rows: one query, chosen from in Python;
    inside ``read_rules_once`` the rows are read once for the whole request)."""
    snapshot = _SNAPSHOT.get()
    if snapshot is not None:
        rows = [r for r in snapshot.versions() if r.effective_from <= at]
    else:
        rows = list(GrantRules.objects.filter(effective_from__lte=at))
    return rows or [_seed_from_settings()]


def read_rules_once(view: Callable[P, R]) -> Callable[P, R]:
    """For a page, an API call or one decision: every rules lookup inside shares one read
    of the versions (a list or report page asks for them several times, a decision three),
    made at the first lookup (a refused request reads none). Nested, the inner one keeps
    the outer read: the API's form, its decision and its reply hold to one set."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        if _SNAPSHOT.get() is not None:
            return view(*args, **kwargs)
        token = _SNAPSHOT.set(_Snapshot())
        try:
            return view(*args, **kwargs)
        finally:
            _SNAPSHOT.reset(token)

    return wrapped


def _newest(rows: list[GrantRules]) -> GrantRules:
    return max(rows, key=lambda r: (r.effective_from, r.version))


def _programme_row(rows: list[GrantRules], key: int) -> GrantRules:
    """The version whose programme rules hold in fiscal year ``key``: the latest decided
    for the latest year at or before it (a year before every version gets the first)."""
    applying = [r for r in rows if (r.fiscal_year_from or 0) <= key]
    if not applying:
        return min(rows, key=lambda r: r.version)
    return max(applying, key=lambda r: (r.fiscal_year_from or 0, r.version))


def fiscal_starts(rows: list[GrantRules], at: datetime) -> FiscalStarts:
    """When fiscal years start, over the years, from the versions in ``rows``.

    A version that sets a new start makes it take effect at the next boundary: the year
    after the one it was saved in is the transition year (old start, ending the day before
    the new one), and the year after that starts on the new day. A later version saved
    before then replaces a pending start (or cancels it, going back to the old one).
    """
    ordered = sorted(rows, key=lambda r: (r.effective_from, r.version))
    base = (ordered[0].fiscal_year_start_month, ordered[0].fiscal_year_start_day)
    changes: list[tuple[int, tuple[int, int]]] = []
    for row in ordered[1:]:
        wanted = (row.fiscal_year_start_month, row.fiscal_year_start_day)
        schedule = FiscalStarts(base, base, tuple(changes))
        saved_in = fiscal_year(row.effective_from, schedule, tz=settings.TIME_ZONE).key
        changes = [c for c in changes if c[0] <= saved_in + 1]  # a pending start is replaced
        if wanted != FiscalStarts(base, base, tuple(changes)).for_key(saved_in + 1):
            changes.append((saved_in + 2, wanted))
    schedule = FiscalStarts(base, base, tuple(changes))
    now = fiscal_year(at, schedule, tz=settings.TIME_ZONE)
    return FiscalStarts((now.start.month, now.start.day), base, tuple(changes))


def _compose(operational: GrantRules, programme: GrantRules, starts: FiscalStarts) -> GrantRules:
    """The newest version's settings with ``programme``'s cap, ratio and limit (unsaved copy)."""
    rules = copy.copy(operational)
    for name in GrantRules.PROGRAMME:
        setattr(rules, name, getattr(programme, name))
    rules.programme_version = programme.version  # type: ignore[attr-defined]
    rules.fiscal_starts = starts  # type: ignore[attr-defined]
    return rules


def rules_in_force(at: datetime | None = None) -> GrantRules:
    """The rules at ``at`` (default: now): the programme rules of the fiscal year it falls in."""
    at = at or timezone.now()
    rows = rules_versions(at)
    starts = fiscal_starts(rows, at)
    key = fiscal_year(at, start=starts, tz=settings.TIME_ZONE).key
    return _compose(_newest(rows), _programme_row(rows, key), starts)


def rules_for_fiscal_year(key: int) -> GrantRules:
    """The rules as they stand for fiscal year ``key``: its own programme rules."""
    now = timezone.now()
    rows = rules_versions(now)
    return _compose(_newest(rows), _programme_row(rows, key), fiscal_starts(rows, now))


def caps_by_fiscal_year(keys: list[int]) -> dict[int, Decimal]:
    """Each fiscal year's cap (one query for them all)."""
    rows = rules_versions(timezone.now())
    return {key: _programme_row(rows, key).annual_cap for key in keys}


def fiscal_year_of(when: date | datetime, rules: GrantRules | None = None) -> FiscalYear:
    """The fiscal year containing ``when`` under ``rules`` (default: those in force now)."""
    rules = rules or rules_in_force()
    return fiscal_year(when, start=rules.fiscal_year_start, tz=settings.TIME_ZONE)


def current_fiscal_year() -> FiscalYear:
    return fiscal_year_of(timezone.now())
