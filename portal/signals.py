"""Audit logins and role changes; end a deactivated user's sessions at once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, pre_save
from django.dispatch import receiver

from portal.accounts import end_user_sessions
from portal.audit import audit_record, roles_audited_elsewhere
from portal.lib.http import client_ip

User = get_user_model()


@receiver(user_logged_in)
def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action="auth.login", obj=user, ip=client_ip(request))


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action="auth.logout", obj=user, ip=client_ip(request))


@receiver(user_login_failed)
def _audit_failed_login(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor="anonymous",
        action="auth.login_failed",
        object_type="auth.user",
        object_id=username[:80],
        object_label=username,
        ip=client_ip(request),
    )


@receiver(pre_save, sender=User)
def _end_sessions_on_deactivation(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is None or instance.is_active:
        return
    was_active = User.objects.filter(pk=instance.pk, is_active=True).exists()
    if was_active:
        end_user_sessions(instance)


@receiver(m2m_changed, sender=User.groups.through)
def _audit_role_change(
    sender: Any, instance: Any, action: str, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in {"post_add", "post_remove", "post_clear"} or not isinstance(instance, User):
        return
    if roles_audited_elsewhere():
        return  # the service making the change records it as one event
    names = sorted(Group.objects.filter(pk__in=pk_set or ()).values_list("name", flat=True))
    audit_record(
        actor="system",
        action=f"auth.roles_{action.removeprefix('post_')}",
        obj=instance,
        object_id=instance.get_username(),
        after={"roles": names},
    )
