"""The signed-in user, loaded once per request with what every page asks of it.

Every page needs three facts about the user besides the row itself: the roles held
(the navigation, each view's permission), and whether a confirmed second-factor device
exists (``TwoFactorRequiredMiddleware`` sends an unverified user who has one to verify).
Django's ``ModelBackend`` loads the row; asking the rest costs a query for the roles and
one per device type. ``PortalBackend`` asks them all in the row's own query, as ``EXISTS``
columns, so they are read at the same moment and never cached beyond the request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Exists, OuterRef
from django_otp import device_classes

from portal import roles


def _role_column(role: str) -> str:
    return f"_holds_{role.lower()}"


def _device_column(index: int) -> str:
    return f"_has_device_{index}"


class PortalBackend(ModelBackend):
    """``ModelBackend`` whose ``get_user`` also reads the roles and the second factor."""

    def get_user(self, user_id: Any) -> Any:
        user_model = get_user_model()
        memberships = user_model.groups.through.objects.filter(user_id=OuterRef("pk"))
        columns: dict[str, Any] = {
            _role_column(role): Exists(memberships.filter(group__name=role))
            for role in roles.ALL_ROLES
        }
        device_models = list(device_classes())
        devices = [_device_column(index) for index in range(len(device_models))]
        for name, model in zip(devices, device_models, strict=True):
            columns[name] = Exists(model.objects.filter(user_id=OuterRef("pk"), confirmed=True))
        try:
            user: Any = user_model._default_manager.annotate(**columns).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        held = {role for role in roles.ALL_ROLES if getattr(user, _role_column(role))}
        roles.remember_roles(user, held)
        user._portal_has_device = any(getattr(user, name) for name in devices)
        return user
