"""The website's JSON API: ``POST /api/v1/applications`` and ``GET …/{reference}``.

Bearer-token authentication (no cookies, so no CSRF), an ``Idempotency-Key`` that makes
a retried POST return the first reply, a per-token rate limit, and 400s that name each
field and rule.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from grants.models import ApiToken, IdempotentReply
from grants.openapi import OPENAPI
from grants.selectors.applications import api_application, application_summary
from grants.services.submit import application_submit
from grants.tokens import authenticate
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
def applications(request: HttpRequest) -> JsonResponse:
    token = _authorized(request)
    if isinstance(token, JsonResponse):
        return token
    body = _parse_body(request)
    if isinstance(body, JsonResponse):
        return body
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 200:
        return _error(400, "The Idempotency-Key header is longer than 200 characters.")
    digest = hashlib.sha256(request.body).hexdigest()
    claim: IdempotentReply | None = None
    if key:
        claim_or_reply = _claim_key(token, key, digest)
        if isinstance(claim_or_reply, JsonResponse):
            return claim_or_reply
        claim = claim_or_reply
    try:
        application = application_submit(data=body, lenient=False, source="api", api_token=token)
    except PortalError as exc:
        if claim is not None:
            claim.delete()  # nothing was stored: a corrected retry may reuse the key
        return _error(400, exc.message, exc.errors)
    except Exception:
        if claim is not None:
            claim.delete()
        raise
    reply = application_summary(application)
    if claim is not None:
        claim.status, claim.body = 201, reply
        claim.save(update_fields=["status", "body"])
    return JsonResponse(reply, status=201)


# A claim this old without a reply belonged to a request that died; it may be taken over.
ABANDONED_AFTER = timedelta(seconds=60)


def _claim_key(token: ApiToken, key: str, digest: str) -> IdempotentReply | JsonResponse:
    """Claim the key before doing anything, so two racing retries create one application."""
    deadline = time.monotonic() + 10
    while True:
        try:
            with transaction.atomic():
                return IdempotentReply.objects.create(
                    token=token, key=key, request_hash=digest, status=0, body={}
                )
        except IntegrityError:
            earlier = IdempotentReply.objects.filter(token=token, key=key).first()
        if earlier is None:
            continue  # released between our insert and read; try again
        if earlier.request_hash != digest:
            return _error(422, "This Idempotency-Key was used with a different body.")
        if earlier.status:
            return JsonResponse(earlier.body, status=earlier.status)
        if timezone.now() - earlier.created_at > ABANDONED_AFTER:
            IdempotentReply.objects.filter(pk=earlier.pk, status=0).delete()
            continue
        if time.monotonic() > deadline:
            return _error(
                409, "A request with this Idempotency-Key is still being processed; retry shortly."
            )
        time.sleep(0.05)


@csrf_exempt
@login_not_required
@require_safe
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
