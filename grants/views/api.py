"""The website's JSON API: ``POST /api/v1/applications`` and ``GET …/{reference}``.

Bearer-token authentication (no cookies, so no CSRF), an ``Idempotency-Key`` that makes
a retried POST return the first reply, a per-token rate limit, and 400s that name each
field and rule.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from grants.forms import NOTHING_SAVED, ApplicationJsonForm
from grants.models import ApiToken, Application, IdempotentReply
from grants.openapi import OPENAPI
from grants.rules import read_rules_once
from grants.selectors.applications import api_application, application_summary
from grants.services.api_tokens import authenticate
from grants.services.idempotency import (
    IdempotencyRefused,
    idempotency_claim,
    idempotency_release,
    idempotency_reply_store,
)
from grants.services.mirror_refresh import arrival
from grants.services.refresh_flight import Ticket
from grants.services.submit import application_submit
from portal.lib import ratelimit
from portal.lib.errors import PortalError
from portal.lib.jsonbody import JsonBodyError, read_json_body

MAX_BODY_BYTES = 64 * 1024


def _error(
    status: int,
    message: str,
    errors: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse({"message": message, "errors": errors or {}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _authorized(request: HttpRequest) -> ApiToken | JsonResponse:
    if ratelimit.api_auth_blocked(request):
        return _error(
            429,
            "Too many failed authentications from your address; try again later.",
            headers={"Retry-After": str(ratelimit.seconds_left(3600))},
        )
    token = authenticate(request.headers.get("Authorization", ""))
    if token is None:
        ratelimit.api_auth_failed(request)
        return _error(
            401,
            "A valid API token is required: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not ratelimit.allow(
        f"api:{token.pk}", limit=settings.PORTAL_API_RATE_PER_MINUTE, window_seconds=60
    ):
        return _error(
            429, "Too many requests for this token; slow down.", headers={"Retry-After": "60"}
        )
    return token


def _parse_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    content_type = request.content_type or ""
    if content_type != "application/json":
        return _error(400, "Send the application as JSON (Content-Type: application/json).")
    try:
        body = read_json_body(request, max_bytes=MAX_BODY_BYTES, parse_float=str)
    except JsonBodyError as exc:
        return _error(400, exc.message)
    if not isinstance(body, dict):
        return _error(400, "The body must be a JSON object with the application's fields.")
    return body


@csrf_exempt
@login_not_required
@require_http_methods(["POST"])
@read_rules_once  # the form, the decision and the reply hold to one read of the rules
def applications(request: HttpRequest) -> JsonResponse:
    arrived = arrival()  # before the body is read: see mirror_refresh.arrival
    token = _authorized(request)
    if isinstance(token, JsonResponse):
        return token
    body = _parse_body(request)
    if isinstance(body, JsonResponse):
        return body
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        return _error(400, "The Idempotency-Key header is longer than 200 characters.")
    claim: IdempotentReply | None = None
    if key:
        try:
            claim = idempotency_claim(
                token=token, key=key, request_hash=hashlib.sha256(request.body).hexdigest()
            )
        except IdempotencyRefused as refused:
            return _error(refused.status, refused.message)
        if claim.status:
            return JsonResponse(claim.body, status=claim.status)
    try:
        application = submit_json(body, token, arrived)
    except PortalError as exc:
        if claim is not None:
            idempotency_release(claim=claim)
        return _error(400, exc.message, exc.errors)
    except Exception:
        if claim is not None:
            idempotency_release(claim=claim)
        raise
    reply = application_summary(application)
    if claim is not None:
        idempotency_reply_store(claim=claim, status=201, body=reply)
    return JsonResponse(reply, status=201)


def submit_json(
    body: dict[str, Any], token: ApiToken | None, arrived: Ticket | None
) -> Application:
    """Validate the JSON body and decide it; raises ``PortalError`` naming the bad fields.

    Call it inside ``read_rules_once`` (the view is), so the form and the decision hold to
    one read of the rules."""
    form = ApplicationJsonForm(body)
    if not form.is_valid():
        raise PortalError(NOTHING_SAVED, form.error_lists())
    return application_submit(
        cleaned=form.application(), source="api", api_token=token, arrived=arrived
    )


@csrf_exempt
@login_not_required
@require_safe
@read_rules_once
def application_detail(request: HttpRequest, reference: str) -> JsonResponse:
    token = _authorized(request)
    if isinstance(token, JsonResponse):
        return token
    application = api_application(reference)
    if application is None:
        return _error(404, f"No application has reference {reference[:40]}.")
    return JsonResponse(application_summary(application))


@login_not_required
@require_safe
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(OPENAPI)
