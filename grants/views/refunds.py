"""Cancelling an approval and refunding a paid grant: a page each, with a confirmation.

Plain forms (they work without JavaScript). A form with errors is shown again (422, the
one rule) with each field's error; a refund is confirmed on a second page with its figures.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from grants.access import get_application_for_user
from grants.models import Application, Refund, Status
from grants.money import format_money
from grants.selectors.applications import fiscal_year_label
from grants.services.refunds import (
    refund_amount,
    refund_figures,
    refund_request,
    refundable,
    share_payment,
)
from grants.services.review import application_cancel
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, form_error_status
from portal.lib.views import require

CANCEL = "grants.application.decide"
REFUND = "grants.payment.refund"


def _errors(exc: PortalError) -> dict[str, list[str]]:
    return dict(exc.errors) if exc.errors else {"page": [exc.message]}


def _context(application: Application, **extra: Any) -> dict[str, Any]:
    return {
        "application": application,
        "fiscal_year": fiscal_year_label(application),
        **extra,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@require(CANCEL)
def cancel(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Cancel an approved, unpaid application, with a message to the lodge."""
    application = get_application_for_user(request, reference, CANCEL)
    message = request.POST.get("message", "") if request.method == "POST" else ""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            application_cancel(application=application, actor=request.user, reason=message)
        except PortalError as exc:
            errors = _errors(exc)
            if "reason" in errors:  # the service calls it the reason; the page, the message
                errors["message"] = [
                    m.replace("Reason:", "Message to the lodge:") for m in errors.pop("reason")
                ]
        else:
            messages.success(
                request,
                f"{application.reference} is cancelled: its payment link no longer works, "
                f"{format_money(application.amount_requested)} returns to the lodge's budget, "
                f"and {application.contact_email} will be emailed.",
            )
            return redirect("grants:application", reference=application.reference)
    return render(
        request,
        "grants/cancel.html",
        _context(
            application,
            title=f"Cancel {application.reference}",
            message=message,
            errors=errors,
            can_cancel=application.status == Status.APPROVED,
        ),
        status=form_error_status(bool(errors)),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@require(REFUND)
def refund(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    """Refund the lodge's share in full or in part: the form, its confirmation, then Stripe."""
    application = get_application_for_user(request, reference, REFUND)
    payment = share_payment(application) if application.status == Status.PAID else None
    reason = request.POST.get("reason", "") if request.method == "POST" else ""
    amount = request.POST.get("amount", "") if request.method == "POST" else ""
    errors: dict[str, list[str]] = {}
    figures = None
    step = "form"
    if request.method == "POST" and payment is None:
        errors["page"] = [f"{application.reference} has no paid share the portal can refund."]
    elif request.method == "POST" and payment is not None:
        try:
            if request.POST.get("confirm") == "yes":
                made = refund_request(
                    application=application, actor=request.user, reason=reason, amount=amount
                )
                application.refresh_from_db()
                done = (
                    f"Stripe refunded {format_money(made.amount)} of the lodge's share."
                    if made.status == Refund.Status.SUCCEEDED
                    else f"Stripe is refunding {format_money(made.amount)} of the lodge's share "
                    f"({made.get_status_display().lower()}: nothing is released until it succeeds)."
                )
                messages.success(
                    request,
                    f"{done} The match that stays is {format_money(application.match_kept)}.",
                )
                return redirect("grants:application", reference=application.reference)
            # Every field's error at once: the reason, then the amount.
            if not " ".join(reason.split()):
                errors["reason"] = ["Reason: say why, in a few words."]
            value = refund_amount(application=application, payment=payment, amount=amount)
            if not errors:
                figures = refund_figures(application, application.refunded_share + value)
                amount = str(value)
                step = "confirm"
        except PortalError as exc:
            errors.update(_errors(exc))
    return render(
        request,
        "grants/refund.html",
        _context(
            application,
            title=f"Refund {application.reference}",
            payment=payment,
            refundable=refundable(payment) if payment is not None else None,
            reason=reason,
            amount=amount,
            errors=errors,
            figures=figures,
            released_now=application.match_kept - figures.match_kept if figures else None,
            step=step,
        ),
        status=form_error_status(bool(errors)),
    )
