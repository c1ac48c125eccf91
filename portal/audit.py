"""Writing the audit log. Services call ``audit_record``; views never write it directly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from portal.lib.secrets import redact
from portal.models import AuditEvent

# Set while a service changes a user's roles and audits the change itself, so the
# m2m signal (which audits changes made elsewhere, e.g. the Django admin) adds no second row.
_ROLES_AUDITED: ContextVar[bool] = ContextVar("roles_audited", default=False)


@contextmanager
def roles_audited_here() -> Iterator[None]:
    """Around ``user.groups.set(...)`` in a service that records its own audit event."""
    token = _ROLES_AUDITED.set(True)
    try:
        yield
    finally:
        _ROLES_AUDITED.reset(token)


def roles_audited_elsewhere() -> bool:
    return _ROLES_AUDITED.get()


def actor_label(actor: Any) -> str:
    if isinstance(actor, str):
        return actor
    if actor is None or not getattr(actor, "is_authenticated", False):
        return "anonymous"
    return str(actor.get_username())


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. ``actor`` is a user or a system actor's name ("webhook")."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "reference", None) or obj.pk)
        object_label = object_label or str(obj)[:200]
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=actor_label(actor)[:150],
        action=action,
        object_type=object_type,
        object_id=object_id[:80],
        object_label=object_label[:200],
        before=before,
        after=after,
        message=redact(message),
        ip=ip,
    )
