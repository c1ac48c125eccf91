"""The application page: every field, the decisions with their figures, the timeline, actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import trigger_client_event

from grants.access import get_application_for_user
from grants.models import Application, Reapply
from grants.selectors.applications import (
    application_decisions,
    application_email,
    application_emails,
    fiscal_year_label,
)
from grants.selectors.timeline import application_timeline, kind_label
from grants.services.emails import email_resend
from grants.services.payments import payment_link_resend
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest
from portal.lib.views import require
from portal.permissions import has_permission


@require_safe
@require("grants.application.view")
def application_page(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    application = get_application_for_user(request, reference)
    # HTMX regions refresh themselves: the page returns just the region asked for.
    region = request.htmx.target if request.htmx else None
    template = (
        f"grants/application.html#{region}"
        if region in {"facts", "actions", "decisions", "emails", "timeline"}
        else "grants/application.html"
    )
    return render(
        request,
        template,
        {
            "title": f"Application {application.reference}",
            "application": application,
            "fiscal_year": fiscal_year_label(application),
            "decisions": application_decisions(application),
            "timeline": application_timeline(application),
            "can_decide": has_permission(
                "grants.application.decide", request.user, application
            ).allowed,
            "can_resend": has_permission(
                "grants.application.resend", request.user, application
            ).allowed,
            "can_refund": has_permission(
                "grants.payment.refund", request.user, application
            ).allowed,
            "emails": application_emails(application),
            "reapply_choices": Reapply.choices,
        },
    )


def _run_action(
    request: HtmxHttpRequest, application: Application, action: Callable[[], object], done: str
) -> HttpResponse:
    """Run a service; HTMX gets 204 and an event the page listens to, others the page again."""
    try:
        action()
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    if request.htmx:
        response = HttpResponse(status=204)
        trigger_client_event(response, "applicationChanged")
        return response
    return redirect("grants:application", reference=application.reference)


@require_POST
@require("grants.application.resend")
def email_resend_view(request: HtmxHttpRequest, reference: str, email_id: int) -> HttpResponse:
    application = get_application_for_user(request, reference, "grants.application.resend")
    email_log = application_email(application, email_id)
    if email_log is None:
        raise Http404("No such email for this application.")
    return _run_action(
        request,
        application,
        lambda: email_resend(email_log=email_log, actor=request.user),
        f"The “{kind_label(email_log.kind)}” email will be sent again.",
    )


@require_POST
@require("grants.application.resend")
def payment_link_resend_view(request: HtmxHttpRequest, reference: str) -> HttpResponse:
    application = get_application_for_user(request, reference, "grants.application.resend")
    return _run_action(
        request,
        application,
        lambda: payment_link_resend(application=application, actor=request.user),
        f"The payment link will be emailed to {application.contact_email}.",
    )
