"""View helpers: the permission decorator and the 403 page that names the role needed."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.permissions import has_permission

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    """The 403 page, saying why (which role is needed)."""
    return render(request, "403.html", {"reason": reason}, status=403)


def require(action: str) -> Callable[[ViewFunc], ViewFunc]:
    """Allow the view only to users whom the permission map allows ``action``."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            verdict = has_permission(action, request.user)
            if not verdict.allowed:
                return forbidden(request, verdict.reason)
            return view(request, *args, **kwargs)

        wrapper.permission_action = action  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
