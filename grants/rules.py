"""The grant rules in force: the newest ``GrantRules`` row effective at a moment.

The first row is seeded from the ``GRANT_*`` settings; admins add later versions.
A decision records the version it used, so a later change never rewrites it.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from grants.fiscal_year import FiscalYear, fiscal_year
from grants.models import GrantRules


def _seed_from_settings() -> GrantRules:
    month, day = settings.GRANT_FISCAL_YEAR_START
    try:
        with transaction.atomic():
            return GrantRules.objects.create(
                version=1,
                effective_from=datetime(2000, 1, 1, tzinfo=timezone.get_default_timezone()),
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


def rules_in_force(at: datetime | None = None) -> GrantRules:
    """The rules effective at ``at`` (default: now)."""
    at = at or timezone.now()
    rules = (
        GrantRules.objects.filter(effective_from__lte=at)
        .order_by("-effective_from", "-version")
        .first()
    )
    return rules or _seed_from_settings()


def fiscal_year_of(when: date | datetime, rules: GrantRules | None = None) -> FiscalYear:
    """The fiscal year containing ``when`` under ``rules`` (default: those in force now)."""
    rules = rules or rules_in_force()
    return fiscal_year(when, start=rules.fiscal_year_start, tz=settings.TIME_ZONE)


def current_fiscal_year() -> FiscalYear:
    return fiscal_year_of(timezone.now())
