"""Request middleware: the second factor where required, the session's idle limit, messages
after HTMX requests, and no-store on every response that must not be cached."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_otp import user_has_device

from portal import roles

# Paths a signed-in but not yet verified user may still reach.
_TWO_FACTOR_OPEN_PREFIXES = ("/login/", "/logout/", "/account/two-factor/", "/static/", "/healthz")


class TwoFactorRequiredMiddleware:
    """Sends users who must use a second factor to verification or enrolment.

    A user who enrolled a device always verifies it. With ``PORTAL_REQUIRE_2FA`` on,
    Finance and Admin must enrol before they can use anything else.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user: Any = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(_TWO_FACTOR_OPEN_PREFIXES)
        ):
            if has_confirmed_device(user):
                return redirect(f"{reverse('two_factor_verify')}?next={request.path}")
            if settings.PORTAL_REQUIRE_2FA and roles.requires_2fa(user):
                messages.info(request, "Your role needs a second factor. Set it up to continue.")
                return redirect("two_factor_setup")
        return self.get_response(request)


def has_confirmed_device(user: Any) -> bool:
    """Whether the user enrolled a second factor: read with the user (``portal.auth_backend``)."""
    known = getattr(user, "_portal_has_device", None)
    return user_has_device(user) if known is None else bool(known)


# The session key holding when the session was last saved (seconds since the epoch).
SESSION_TOUCHED_KEY = "_portal_touched"


class SessionIdleMiddleware:
    """The idle limit, without a database write on every request.

    A session expires ``SESSION_COOKIE_AGE`` after it was last saved. Django's
    ``SESSION_SAVE_EVERY_REQUEST`` makes that "after the last request" at the cost of an
    UPDATE (three statements) on every page. This saves an active session at most once
    every ``PORTAL_SESSION_TOUCH_SECONDS`` instead, so a session ends between the idle
    limit minus that interval and the idle limit after its last request: never later.
    It must sit below ``SessionMiddleware``, which saves what this marks modified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = request.session
        if session.is_empty() or session.get_expire_at_browser_close():
            return response  # nobody signed in (or a session that ends with the browser)
        now = int(timezone.now().timestamp())  # the clock the session's expiry is set by
        touched = session.get(SESSION_TOUCHED_KEY)
        if not isinstance(touched, int) or now - touched >= settings.PORTAL_SESSION_TOUCH_SECONDS:
            session[SESSION_TOUCHED_KEY] = now
        return response


class HtmxMessagesMiddleware:
    """After an HTMX request, hands Django messages to the page as a ``messages`` event.

    The page's script shows them as toasts, so a message raised by a partial update is
    seen just like one after a full page load.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code in (301, 302):
            return response
        if "HX-Redirect" in response or "HX-Refresh" in response:
            return response  # the next full page shows them
        pending = [
            {"level": message.level_tag, "message": str(message)}
            for message in messages.get_messages(request)
        ]
        if not pending:
            return response
        triggers: dict[str, Any] = {}
        if "HX-Trigger" in response:
            existing = response["HX-Trigger"]
            try:
                triggers = json.loads(existing)
            except ValueError:
                triggers = {name.strip(): None for name in existing.split(",")}
        triggers["messages"] = pending
        response["HX-Trigger"] = json.dumps(triggers)
        return response


# Public pages whose URL is the credential: what they show is for that link's holder only.
_TOKEN_PAGE_PREFIXES = ("/status/", "/pay/", "/account/two-factor/", "/password-reset/")


class NoStoreMiddleware:
    """``Cache-Control: no-store, private`` wherever a copy kept by a browser or proxy leaks.

    That is every response to a signed-in user or an API client, every download, and the
    public pages reached by a token in the link (the status and payment pages, the
    second-factor page with its secret, the password-reset links).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user: Any = getattr(request, "user", None)
        if (
            (user is not None and user.is_authenticated)
            or "HTTP_AUTHORIZATION" in request.META
            or request.path.startswith(_TOKEN_PAGE_PREFIXES)
            or response.get("Content-Disposition", "").startswith("attachment")
        ):
            response["Cache-Control"] = "no-store, private"
        return response
