"""The one permission map: ``has_permission(action, user, obj) -> (allowed, reason)``.

Every view asks it, through ``portal.lib.views.require`` or directly. Each app registers
its own actions in its ``AppConfig.ready()`` (``grants`` in ``GrantsConfig.ready()``), so
``portal`` knows no grant, and a shell or a worker sees the same map as the web process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from portal import roles


class Permission(NamedTuple):
    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


ObjectCheck = Callable[[Any, Any], Permission | None]


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset[str]
    description: str
    object_check: ObjectCheck | None = None


_ACTIONS: dict[str, Action] = {}


def register(
    name: str,
    *,
    roles_allowed: set[str] | frozenset[str],
    description: str,
    object_check: ObjectCheck | None = None,
) -> Action:
    """Declare an action and the roles that may perform it (Admin always may)."""
    unknown = set(roles_allowed) - set(roles.ALL_ROLES)
    if unknown:
        raise ValueError(f"unknown roles for {name}: {sorted(unknown)}")
    action = Action(name, frozenset(roles_allowed) | {roles.ADMIN}, description, object_check)
    _ACTIONS[name] = action
    return action


def actions() -> dict[str, Action]:
    return dict(_ACTIONS)


def _role_list(names: frozenset[str]) -> str:
    ordered = [r for r in roles.ALL_ROLES if r in names]
    if len(ordered) == 1:
        return f"the {ordered[0]} role"
    return "the " + ", ".join(ordered[:-1]) + f" or {ordered[-1]} role"


def has_permission(action: str, user: Any, obj: Any = None) -> Permission:
    """May ``user`` perform ``action`` (on ``obj``)? The reason says which role is needed."""
    spec = _ACTIONS.get(action)
    if spec is None:
        raise KeyError(f"unknown action {action!r}: register it in its app's AppConfig.ready()")
    if not getattr(user, "is_authenticated", False):
        return Permission(False, "Please sign in.")
    if not user.is_active:
        return Permission(False, "This account is deactivated.")
    held = roles.user_roles(user)
    if not held & spec.roles:
        return Permission(False, f"This needs {_role_list(spec.roles)}.")
    if spec.object_check is not None and obj is not None:
        verdict = spec.object_check(user, obj)
        if verdict is not None and not verdict.allowed:
            return verdict
    return Permission(True, "")
