"""Staff accounts: invite, roles, deactivate, reactivate, reset the second factor. Each audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import devices_for_user

from portal import roles
from portal.accounts import end_user_sessions
from portal.audit import audit_record, roles_audited_here
from portal.lib.email import build_email
from portal.lib.errors import PortalError

User = get_user_model()


def set_password_url(user: Any) -> str:
    """An absolute link to choose a password (Django's reset token: one use, time-limited)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return settings.PORTAL_BASE_URL + path


def _check_roles(role_names: Iterable[str]) -> list[str]:
    names = list(dict.fromkeys(role_names))
    unknown = [name for name in names if name not in roles.ALL_ROLES]
    if unknown:
        raise PortalError("Unknown role.", {"roles": [f"Roles: {', '.join(unknown)} is no role."]})
    return names


@transaction.atomic
def user_invite(
    *, email: str, username: str, first_name: str = "", role_names: Iterable[str], actor: Any
) -> Any:
    """A new account without a password, and an email with a link to set one."""
    email = email.strip().lower()
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = [f"Username: {username} is taken."]
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [f"Email: an account with {email} exists."]
    names = _check_roles(role_names)
    if errors:
        raise PortalError("Please correct the form.", errors)
    user = User.objects.create_user(username=username, email=email, first_name=first_name.strip())
    user.set_unusable_password()
    user.save(update_fields=["password"])
    with roles_audited_here():
        user.groups.set(Group.objects.filter(name__in=names))
    audit_record(
        actor=actor,
        action="user.invited",
        obj=user,
        object_id=user.get_username(),
        after={"email": email, "roles": sorted(names)},
    )
    link = set_password_url(user)
    message = build_email(
        "staff-invite", {"user": user, "link": link, "invited_by": actor}, to=[email]
    )
    transaction.on_commit(message.send)
    return user


@transaction.atomic
def user_roles_set(*, user: Any, role_names: Iterable[str], actor: Any) -> None:
    names = _check_roles(role_names)
    before = sorted(user.groups.filter(name__in=roles.ALL_ROLES).values_list("name", flat=True))
    if actor.pk == user.pk and roles.ADMIN in before and roles.ADMIN not in names:
        raise PortalError(
            "You cannot remove your own Admin role.",
            {"roles": ["Roles: ask another admin to remove your Admin role."]},
        )
    with roles_audited_here():
        user.groups.set(Group.objects.filter(name__in=names))
    user.__dict__.pop("_portal_roles", None)
    audit_record(
        actor=actor,
        action="user.roles_changed",
        obj=user,
        object_id=user.get_username(),
        before={"roles": before},
        after={"roles": sorted(names)},
    )


@transaction.atomic
def user_deactivate(*, user: Any, actor: Any) -> int:
    """Deactivate the account and end its open sessions at once; returns sessions ended."""
    if actor.pk == user.pk:
        raise PortalError("You cannot deactivate your own account.")
    ended = end_user_sessions(user)
    user.is_active = False
    user.save(update_fields=["is_active"])  # the pre_save signal ends any session opened since
    audit_record(
        actor=actor,
        action="user.deactivated",
        obj=user,
        object_id=user.get_username(),
        before={"is_active": True},
        after={"is_active": False},
        message=f"{ended} open session(s) ended.",
    )
    return ended


@transaction.atomic
def user_reactivate(*, user: Any, actor: Any) -> None:
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.reactivated",
        obj=user,
        object_id=user.get_username(),
        before={"is_active": False},
        after={"is_active": True},
    )


@transaction.atomic
def user_second_factor_reset(*, user: Any, actor: Any) -> int:
    """Delete the user's TOTP and backup-code devices; they enrol again at next sign-in."""
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    audit_record(
        actor=actor,
        action="user.second_factor_reset",
        obj=user,
        object_id=user.get_username(),
        message=f"{len(devices)} device(s) removed.",
    )
    return len(devices)
