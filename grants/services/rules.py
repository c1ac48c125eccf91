"""Changing the grant rules: each change is a new ``GrantRules`` version, effective now.

Decisions keep the version they used, so a change never rewrites what was decided.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grants.fiscal_year import check_start
from grants.models import GrantRules
from grants.rules import rules_in_force
from portal.audit import audit_record
from portal.lib.errors import PortalError

# The rules an admin may change, with their labels (the history shows these names).
EDITABLE = {
    "annual_cap": "Annual cap",
    "fiscal_year_start_month": "Fiscal year starts: month",
    "fiscal_year_start_day": "Fiscal year starts: day",
    "match_ratio": "Match ratio",
    "auto_approve_limit": "Auto-approve limit",
    "payment_link_days": "Payment link valid (days)",
    "vendor_email": "Vendor email",
    "finance_email": "Finance email",
    "digest_hour": "Digest hour",
}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def grant_rules_change(*, changes: dict[str, Any], actor: Any) -> GrantRules | None:
    """Add a version with ``changes`` applied, effective now; None when nothing changed."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    month = changes.get("fiscal_year_start_month")
    day = changes.get("fiscal_year_start_day")
    current = rules_in_force()
    try:
        check_start(
            (
                month if month is not None else current.fiscal_year_start_month,
                day if day is not None else current.fiscal_year_start_day,
            )
        )
    except ValueError as exc:
        raise PortalError(str(exc), {"fiscal_year_start_day": [str(exc)]}) from None
    before = {name: getattr(current, name) for name in EDITABLE}
    after = {**before, **changes}
    changed = {name for name in EDITABLE if after[name] != before[name]}
    if not changed:
        return None
    now = timezone.now()
    version = (GrantRules.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        with transaction.atomic():
            rules = GrantRules.objects.create(
                version=version, effective_from=now, created_by=actor, **after
            )
    except IntegrityError:
        raise PortalError("Another admin changed the rules just now; please try again.") from None
    audit_record(
        actor=actor,
        action="grant_rules.changed",
        obj=rules,
        object_id=str(rules.version),
        before={name: _plain(before[name]) for name in sorted(changed)},
        after={name: _plain(after[name]) for name in sorted(changed)},
    )
    return rules


def rules_history(limit: int = 50) -> list[dict[str, Any]]:
    """Each version, newest first, with who made it, when, and each value it changed."""
    versions = list(
        GrantRules.objects.select_related("created_by").order_by("-version")[: limit + 1]
    )
    history = []
    for index, rules in enumerate(versions[:limit]):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        changes = []
        if previous is not None:
            for name, label in EDITABLE.items():
                old, new = getattr(previous, name), getattr(rules, name)
                if old != new:
                    changes.append({"label": label, "old": old, "new": new})
        history.append(
            {
                "rules": rules,
                "by": rules.created_by.get_username() if rules.created_by else "settings",
                "changes": changes,
            }
        )
    return history
