"""What every page of the shell needs: navigation, roles, the CSP nonce for htmx's tag,
the foundation's name and its contact address."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from portal import roles
from portal.lib.email import contact_email
from portal.navigation import nav_for


def shell(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        # django-htmx's {% htmx_script %} reads "csp_nonce" from the context.
        "csp_nonce": getattr(request, "csp_nonce", ""),
        "nav_items": nav_for(user, request.path) if signed_in else [],
        "user_roles": sorted(roles.user_roles(user)) if signed_in else [],
        "site_title": "Grants portal",
        "foundation_name": settings.FOUNDATION_NAME,
        "contact_email": contact_email(),
        "demo_mode": settings.DEBUG and not settings.PORTAL_REQUIRE_2FA,
    }
