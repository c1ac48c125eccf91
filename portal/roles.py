"""The staff roles. Each is a Django Group, created by a data migration."""

from __future__ import annotations

from typing import Any

REVIEWER = "Reviewer"
FINANCE = "Finance"
ADMIN = "Admin"

ALL_ROLES = (REVIEWER, FINANCE, ADMIN)

# Roles whose accounts must use a second factor when PORTAL_REQUIRE_2FA is on.
ROLES_REQUIRING_2FA = frozenset({FINANCE, ADMIN})

ROLE_DESCRIPTIONS = {
    REVIEWER: "works the review queue and reads lodge dashboards",
    FINANCE: "downloads reports and reconciles payments",
    ADMIN: "manages users, roles, grant rules and API tokens; can do everything",
}


def user_roles(user: Any) -> frozenset[str]:
    """The role names a user holds (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        cached = remember_roles(
            user, user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True)
        )
    return cached


def remember_roles(user: Any, names: Any) -> frozenset[str]:
    """Keep ``names`` (the user's groups among the roles) on the user for this request.

    A superuser holds Admin whatever the groups say. ``portal.auth_backend`` calls this
    with the roles read in the user's own query, so the pages ask no more.
    """
    held = set(names) & set(ALL_ROLES)
    if user.is_superuser:
        held.add(ADMIN)
    user._portal_roles = frozenset(held)
    return user._portal_roles


def requires_2fa(user: Any) -> bool:
    return bool(user_roles(user) & ROLES_REQUIRING_2FA)
