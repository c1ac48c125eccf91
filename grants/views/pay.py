"""The lodge's payment link ``/pay/<token>/`` and the dev provider's stand-in checkout.

Public: the unguessable token is the key. Opening the link shows the amount and a **Pay**
button and starts nothing; pressing Pay creates the checkout session. With Stripe
configured that sends the lodge to Stripe Checkout; without it, the reply shows what
Stripe would show, and its **Pay** form sends the portal a signed webhook through the
same code path Stripe's would take.
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from grants.models import Application, Payment, Status
from grants.payments.provider import (
    DevProvider,
    ProviderError,
    payment_provider,
    session_object,
)
from grants.payments.webhook import WebhookRejected, webhook_receive
from grants.selectors.applications import fiscal_year_label, status_url
from grants.services.payments import checkout_start
from grants.views.public import public_context, unknown_link
from portal.lib.errors import PortalError

logger = logging.getLogger("grants.payments")


def _application_for_token(token: str) -> Application | None:
    return (
        Application.objects.select_related("lodge").filter(payment_token=token).first()
        if token
        else None
    )


def _page(
    request: HttpRequest, application: Application, state: str, **extra: object
) -> HttpResponse:
    titles = {
        "paid": "Paid: thank you",
        "processing": "Thank you: your payment is being confirmed",
        "expired": "This payment link has expired",
        "closed": "This payment link is closed",
        "unavailable": "Payments are unavailable just now",
        "ready": "Pay your lodge's share",
        "checkout": "Pay your lodge's share",
    }
    context = public_context(
        title=titles[state],
        state=state,
        application=application,
        lodge_name=application.lodge.name
        if application.lodge
        else f"Lodge {application.lodge_number}",
        fiscal_year=fiscal_year_label(application),
        status_url=status_url(application),
        **extra,
    )
    return render(
        request, "grants/pay.html", context, status=503 if state == "unavailable" else 200
    )


def _closed_state(application: Application) -> str | None:
    """The page to show instead of a checkout, or None while the link can be paid."""
    if application.status == Status.PAID:
        return "paid"
    if application.status == Status.EXPIRED or (
        application.status == Status.APPROVED and application.payment_link_expired(timezone.now())
    ):
        return "expired"
    if application.status != Status.APPROVED:
        return "closed"
    return None


def _last_attempt_failed(application: Application) -> bool:
    return Payment.objects.filter(application=application, status=Payment.Status.FAILED).exists()


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the amount and a **Pay** button; only that POST starts a checkout.

    Opening the link changes nothing, so an email link scanner cannot start checkouts.
    """
    application = _application_for_token(token)
    if application is None:
        return unknown_link(request, "payment")
    closed = _closed_state(application)
    if closed:
        return _page(request, application, closed)
    if request.method != "POST":
        if request.GET.get("checkout") == "done":
            # Back from checkout before Stripe's webhook arrived: never ask the lodge to pay again.
            return _page(request, application, "processing")
        return _page(request, application, "ready", failed=_last_attempt_failed(application))
    provider = payment_provider()
    try:
        payment = checkout_start(application=application, provider=provider)
    except PortalError as exc:
        return _page(request, application, "closed", message=exc.message)
    except ProviderError:
        logger.warning("could not start a checkout for %s", application.reference, exc_info=True)
        return _page(request, application, "unavailable")
    if provider.hosted_checkout:
        return HttpResponseRedirect(payment.checkout_url, status=303)
    return _page(
        request,
        application,
        "checkout",
        payment=payment,
        failed=_last_attempt_failed(application),
    )


@login_not_required
@require_POST
def pay_dev(request: HttpRequest, token: str) -> HttpResponse:
    """The dev provider's checkout: send the portal the webhook Stripe would send."""
    provider = payment_provider()
    if not isinstance(provider, DevProvider):
        raise Http404("Payments go through Stripe.")
    application = _application_for_token(token)
    if application is None:
        return unknown_link(request, "payment")
    # The attempt's number, never the session id: no Stripe identifier reaches a lodge's page.
    attempt = request.POST.get("attempt", "")
    payment = (
        Payment.objects.filter(application=application, attempt=int(attempt), provider="dev")
        .order_by("-id")
        .first()
        if attempt.isascii() and attempt.isdigit() and len(attempt) <= 4
        else None
    )
    if payment is None:
        return redirect("grants:pay", token=token)
    if payment.status != Payment.Status.OPEN:
        # As on Stripe's page: a closed session (expired by a cancellation, paid) takes nothing.
        return redirect("grants:pay", token=token)
    if request.POST.get("outcome") == "failed":
        event_type, payment_status = "checkout.session.async_payment_failed", "unpaid"
    else:
        event_type, payment_status = "checkout.session.completed", "paid"
    session = session_object(
        session_id=payment.stripe_session_id, application=application, payment_status=payment_status
    )
    body, signature = provider.signed_event(event_type=event_type, session=session)
    try:
        webhook_receive(body, signature)
    except WebhookRejected:  # cannot happen with our own secret; say so plainly if it does
        logger.exception("the dev provider's own webhook was refused")
        return _page(request, application, "unavailable")
    return redirect("grants:pay", token=token)
