"""Changing the grant rules: each change is a new ``GrantRules`` version.

Operational settings (addresses, payment-link days, digest hour, the fiscal-year start)
take effect at once. Programme rules (cap, match ratio, auto-approve limit) take effect
from a named fiscal year, this one or the next, so a past year keeps the rules it was
decided under. ``rules_change_preview`` says what a change would do before it is saved;
``grant_rules_change`` saves it with who and why.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grants.fiscal_year import FiscalStarts, FiscalYear, check_start, fiscal_year, long_date
from grants.models import Application, GrantRules, Lodge, NinoxGrant
from grants.money import format_money
from grants.rules import (
    current_fiscal_year,
    fiscal_starts,
    rules_for_fiscal_year,
    rules_in_force,
    rules_versions,
)
from grants.selectors.budgets import lodges_with_budget
from portal.audit import audit_record
from portal.lib.errors import PortalError

# The rules an admin may change, with their labels (the history shows these names).
EDITABLE = {
    "annual_cap": "Annual cap",
    "match_ratio": "Match ratio",
    "auto_approve_limit": "Auto-approve limit",
    "fiscal_year_start_month": "Fiscal year starts: month",
    "fiscal_year_start_day": "Fiscal year starts: day",
    "payment_link_days": "Payment link valid (days)",
    "vendor_email": "Vendor email",
    "finance_email": "Finance email",
    "digest_hour": "Digest hour",
    "show_remaining_on_apply": "Apply form shows what a lodge has left",
}
PROGRAMME = GrantRules.PROGRAMME
MONEY = {"annual_cap", "auto_approve_limit"}
AFFECTED_SHOWN = 50


def rule_value(name: str, value: Any) -> str:
    """A rule's value as a person reads it: money as money, a month by its name."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name in MONEY:
        return format_money(Decimal(str(value)))
    if name == "fiscal_year_start_month":
        return calendar.month_name[int(value)]
    if name == "match_ratio":
        return f"{Decimal(str(value)).normalize():f} to 1"
    if name == "digest_hour":
        return f"{int(value):02d}:00"
    return str(value)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def fiscal_year_choices() -> tuple[FiscalYear, FiscalYear]:
    """The years a programme change may start in: this one and the next."""
    this = current_fiscal_year()
    return this, this.next()


def _target(fiscal_year_from: int | None) -> FiscalYear:
    this, following = fiscal_year_choices()
    if fiscal_year_from is None or fiscal_year_from == this.key:
        return this
    if fiscal_year_from == following.key:
        return following
    raise PortalError(
        "A change to the programme rules starts in this fiscal year or the next.",
        {
            "fiscal_year_from": [
                f"Starts in: choose {this.label} or {following.label}; "
                "a past year keeps the rules it was decided under."
            ]
        },
    )


@dataclass(frozen=True)
class StartChange:
    """A new fiscal-year start: the one transition year, then the first year on the new day."""

    transition: FiscalYear
    first: FiscalYear

    def sentence(self) -> str:
        return (
            f"The new fiscal-year start takes effect at the next boundary: "
            f"{self.transition.label} runs {self.transition.span} ({self.transition.months} "
            f"months) as the one transition year, and from {long_date(self.first.start)} each "
            f"fiscal year runs {self.first.start:%B} {self.first.start.day} to "
            f"{self.first.end:%B} {self.first.end.day}. Grants already made keep their years."
        )


def pending_start_change(starts: FiscalStarts | None = None) -> StartChange | None:
    """The fiscal-year start that waits for its boundary, if an admin set one."""
    starts = starts or rules_in_force().fiscal_year_start  # type: ignore[assignment]
    if not isinstance(starts, FiscalStarts):
        return None
    this = current_fiscal_year().key
    waiting = [key for key, _ in starts.changes if key > this]
    if not waiting:
        return None
    first = FiscalYear.from_key(waiting[0], starts)
    return StartChange(first.previous(), first)


def _starts_with(changes: dict[str, Any]) -> FiscalStarts:
    """The fiscal-year starts as they would be if ``changes`` were saved now."""
    now = timezone.now()
    rows = rules_versions(now)
    newest = max(rows, key=lambda r: (r.effective_from, r.version))
    proposed = GrantRules(
        version=newest.version + 1,
        effective_from=now,
        fiscal_year_start_month=changes.get(
            "fiscal_year_start_month", newest.fiscal_year_start_month
        ),
        fiscal_year_start_day=changes.get("fiscal_year_start_day", newest.fiscal_year_start_day),
    )
    return fiscal_starts([*rows, proposed], now)


def fiscal_years_rebucket(starts: FiscalStarts, since: date) -> int:
    """Put the mirror's grants and the portal's applications dated ``since`` or later in the
    fiscal years ``starts`` gives them; returns how many moved."""
    moved = 0
    for grant in NinoxGrant.objects.filter(grant_date__gte=since):
        assert grant.grant_date is not None  # the filter says so
        key = fiscal_year(grant.grant_date, starts).key
        if grant.fiscal_year != key:
            moved += NinoxGrant.objects.filter(pk=grant.pk).update(fiscal_year=key)
    for application in Application.objects.filter(grant_date__gte=since):
        assert application.grant_date is not None
        key = fiscal_year(application.grant_date, starts).key
        if application.fiscal_year != key:
            moved += Application.objects.filter(pk=application.pk).update(fiscal_year=key)
    return moved


@dataclass(frozen=True)
class RuleChange:
    name: str
    label: str
    old: str
    new: str
    programme: bool


@dataclass(frozen=True)
class LodgeEffect:
    lodge: Lodge
    used: Decimal
    remaining_before: Decimal
    remaining_after: Decimal


@dataclass(frozen=True)
class RulesPreview:
    """What a change would do, in words and per lodge, before it is saved."""

    fiscal_year: FiscalYear
    changes: list[RuleChange]
    sentences: list[str] = field(default_factory=list)
    affected: list[LodgeEffect] = field(default_factory=list)
    affected_count: int = 0
    start_change: StartChange | None = None


def _base(target: FiscalYear) -> GrantRules:
    """What the new version starts from: today's settings, the target year's programme."""
    return rules_for_fiscal_year(target.key)


def _diff(base: GrantRules, changes: dict[str, Any]) -> list[RuleChange]:
    return [
        RuleChange(
            name,
            label,
            rule_value(name, getattr(base, name)),
            rule_value(name, changes[name]),
            name in PROGRAMME,
        )
        for name, label in EDITABLE.items()
        if name in changes and changes[name] != getattr(base, name)
    ]


def _check(changes: dict[str, Any], current: GrantRules) -> None:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    month = changes.get("fiscal_year_start_month")
    day = changes.get("fiscal_year_start_day")
    try:
        check_start(
            (
                month if month is not None else current.fiscal_year_start_month,
                day if day is not None else current.fiscal_year_start_day,
            )
        )
    except ValueError as exc:
        raise PortalError(str(exc), {"fiscal_year_start_day": [str(exc)]}) from None


def rules_change_preview(
    *, changes: dict[str, Any], fiscal_year_from: int | None = None
) -> RulesPreview:
    """Which lodges a change affects and how, and when each part takes effect."""
    target = _target(fiscal_year_from)
    base = _base(target)
    _check(changes, base)
    diff = _diff(base, changes)
    sentences = []
    affected: list[LodgeEffect] = []
    count = 0
    by_name = {c.name: c for c in diff}
    if any(c.programme for c in diff):
        when = (
            f"from now, for {target.label} ({target.span})"
            if target.key == current_fiscal_year().key
            else f"from {target.label}, which starts {long_date(target.start)}"
        )
        sentences.append(
            f"The programme rules change {when}. Earlier fiscal years keep the rules "
            "they were decided under, and decisions already made keep their figures."
        )
    if "annual_cap" in by_name:
        new_cap = Decimal(str(changes["annual_cap"]))
        rows = (
            lodges_with_budget(target.key, new_cap)
            .filter(used__gt=0)  # type: ignore[misc]  # an annotation
            .order_by("remaining", "number")
        )
        count = rows.count()
        affected = [
            LodgeEffect(
                lodge=lodge,
                used=lodge.used,  # type: ignore[attr-defined]
                remaining_before=base.annual_cap - lodge.used,  # type: ignore[attr-defined]
                remaining_after=lodge.remaining,  # type: ignore[attr-defined]
            )
            for lodge in rows[:AFFECTED_SHOWN]
        ]
        over = rows.filter(remaining__lt=0).count()  # type: ignore[misc]  # an annotation
        used = (
            f"{count} lodge(s) have used some of it already"
            + (f", and {over} would be over the new cap." if over else ".")
            if count
            else "no lodge has used any of it yet."
        )
        sentences.append(
            f"Each lodge's cap for {target.label} goes from {by_name['annual_cap'].old} to "
            f"{by_name['annual_cap'].new}; {used}"
        )
    if "match_ratio" in by_name:
        sentences.append(
            f"Applications for {target.label} may ask for a match of up to "
            f"{by_name['match_ratio'].new} of what the lodge raised "
            f"(was {by_name['match_ratio'].old})."
        )
    if "auto_approve_limit" in by_name:
        sentences.append(
            f"In {target.label}, a match above {by_name['auto_approve_limit'].new} goes to a "
            f"person instead of being approved automatically "
            f"(was {by_name['auto_approve_limit'].old})."
        )
    start_change = None
    if {"fiscal_year_start_month", "fiscal_year_start_day"} & set(by_name):
        start_change = pending_start_change(_starts_with(changes))
        if start_change is not None:
            sentences.append(start_change.sentence())
        else:
            sentences.append("The fiscal-year start goes back to the day years start on now.")
    settings_now = [
        c.label.lower() for c in diff if not c.programme and not c.name.startswith("fiscal_year")
    ]
    if settings_now:
        sentences.append("The settings " + ", ".join(settings_now) + " take effect at once.")
    return RulesPreview(target, diff, sentences, affected, count, start_change)


@transaction.atomic
def grant_rules_change(
    *,
    changes: dict[str, Any],
    actor: Any,
    fiscal_year_from: int | None = None,
    reason: str = "",
) -> GrantRules | None:
    """Save ``changes`` as a new version; None when nothing changed.

    The programme rules in it hold from ``fiscal_year_from`` (this fiscal year's key by
    default, or the next year's); the other settings take effect at once.
    """
    target = _target(fiscal_year_from)
    base = _base(target)
    _check(changes, base)
    before = {name: getattr(base, name) for name in EDITABLE}
    after = {**before, **{k: v for k, v in changes.items() if k in EDITABLE}}
    changed = {name for name in EDITABLE if after[name] != before[name]}
    if not changed:
        return None
    reason = reason.strip()
    if not reason:
        raise PortalError(
            "Say why the rules change.", {"reason": ["Why: say why the rules change."]}
        )
    if not changed & set(PROGRAMME):
        # Settings only: the version carries today's programme rules for this year.
        today = rules_in_force()
        target = current_fiscal_year()
        after.update({name: getattr(today, name) for name in PROGRAMME})
    now = timezone.now()
    version = (GrantRules.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        with transaction.atomic():
            rules = GrantRules.objects.create(
                version=version,
                effective_from=now,
                fiscal_year_from=target.key,
                reason=reason[:2000],
                created_by=actor,
                **after,
            )
    except IntegrityError:
        raise PortalError("Another admin changed the rules just now; please try again.") from None
    if changed & {"fiscal_year_start_month", "fiscal_year_start_day"}:
        starts = rules_in_force().fiscal_year_start
        assert isinstance(starts, FiscalStarts)
        fiscal_years_rebucket(starts, current_fiscal_year().next().start)
    audit_record(
        actor=actor,
        action="grant_rules.changed",
        obj=rules,
        object_id=str(rules.version),
        before={name: _plain(before[name]) for name in sorted(changed)},
        after={name: _plain(after[name]) for name in sorted(changed)},
        message=(f"Programme rules from {target.label}. " if changed & set(PROGRAMME) else "")
        + f"Why: {reason}"[:500],
    )
    return rules


def rules_history(limit: int = 50) -> list[dict[str, Any]]:
    """Each version, newest first, with who made it, when, why, from which fiscal year, and
    each value it changed against the version before it, shown as a person reads it."""
    versions = list(
        GrantRules.objects.select_related("created_by").order_by("-version")[: limit + 1]
    )
    start = rules_in_force().fiscal_year_start
    history = []
    for index, rules in enumerate(versions[:limit]):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        changes = []
        if previous is not None:
            for name, label in EDITABLE.items():
                old, new = getattr(previous, name), getattr(rules, name)
                if old != new:
                    changes.append(
                        {"label": label, "old": rule_value(name, old), "new": rule_value(name, new)}
                    )
        history.append(
            {
                "rules": rules,
                "by": rules.created_by.get_username() if rules.created_by else "settings",
                "changes": changes,
                "fiscal_year": FiscalYear.from_key(rules.fiscal_year_from, start)
                if rules.fiscal_year_from and rules.version > 1
                else None,
            }
        )
    return history
