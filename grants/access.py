"""Object access for staff views: one helper per model, raising 404 or 403."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from grants.models import Application, Lodge
from portal.permissions import has_permission


def get_application_for_user(
    request: HttpRequest, reference: str, action: str = "grants.application.view"
) -> Application:
    application = Application.objects.select_related("lodge").filter(reference=reference).first()
    if application is None:
        raise Http404(f"No application {reference[:30]}.")
    verdict = has_permission(action, request.user, application)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    return application


def get_lodge_for_user(request: HttpRequest, number: int) -> Lodge:
    lodge = Lodge.objects.filter(number=number).first()
    if lodge is None:
        raise Http404(f"No lodge number {number}.")
    verdict = has_permission("grants.lodge.view", request.user, lodge)
    if not verdict.allowed:
        raise PermissionDenied(verdict.reason)
    return lodge
