"""``POST /webhooks/stripe/``: Stripe's deliveries, authenticated by their signature.

CSRF-exempt like the token-authenticated API (Stripe sends no cookie and no CSRF
token; the signature over the raw body is the authentication), and nothing else is.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from grants.payments.webhook import WebhookRejected, webhook_receive


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    try:
        result = webhook_receive(request.body, request.headers.get("Stripe-Signature"))
    except WebhookRejected as exc:
        return JsonResponse({"message": str(exc)}, status=400)
    return JsonResponse({"received": True, "result": result})
