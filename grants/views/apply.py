"""The public apply form, its live lodge lookup, and the status page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from grants.forms import ApplicationForm
from grants.money import format_money
from grants.rules import rules_in_force
from grants.selectors.applications import (
    application_for_status_token,
    fiscal_year_label,
    latest_decision,
    lodge_by_number,
    payment_url,
    status_token,
)
from grants.services.submit import application_submit
from portal.lib import ratelimit
from portal.lib.errors import PortalError
from portal.lib.http import client_ip, form_error_status

HONEYPOT = "website"


def _public_context(**extra: object) -> dict[str, object]:
    """What every public page shows: the foundation's contact and the cap."""
    from email.utils import parseaddr

    rules = rules_in_force()
    return {
        "grants_contact_email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        "annual_cap_display": format_money(rules.annual_cap),
        **extra,
    }


def _limit_key(request: HttpRequest, outcome: str) -> str:
    return f"apply:{outcome}:{client_ip(request)}"


def _rate_limited(request: HttpRequest) -> str | None:
    """Why this address may not post now, or None: accepted and refused posts count apart."""
    if ratelimit.exceeded(
        _limit_key(request, "accepted"),
        limit=settings.PORTAL_APPLY_RATE_PER_HOUR,
        window_seconds=3600,
    ):
        return "Too many applications from your address. Please try again in an hour."
    if ratelimit.exceeded(
        _limit_key(request, "refused"),
        limit=settings.PORTAL_APPLY_INVALID_RATE_PER_HOUR,
        window_seconds=3600,
    ):
        return "Too many attempts from your address. Please try again in an hour."
    return None


def _count(request: HttpRequest, outcome: str) -> None:
    ratelimit.record(_limit_key(request, outcome), window_seconds=3600)


def _with_errors(form: ApplicationForm, errors: dict[str, list[str]]) -> ApplicationForm:
    """``form`` with ``errors`` added to its own (a field it lacks files them above the form)."""
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
    return form


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm()
    status = 200
    if request.method == "POST":
        honeypot = bool(request.POST.get(HONEYPOT))
        refusal = "The form could not be sent. Please try again." if honeypot else None
        refusal = refusal or _rate_limited(request)
        form = ApplicationForm(request.POST)
        if refusal:
            form = _with_errors(form, {"non_field_errors": [refusal]})
            if honeypot:
                _count(request, "refused")
            status = 400 if honeypot else 429
        else:
            if form.is_valid():
                try:
                    application = application_submit(cleaned=form.application(), source="web")
                except PortalError as exc:
                    form = _with_errors(form, exc.errors or {"": [exc.message]})
                else:
                    _count(request, "accepted")
                    return redirect("grants:status", token=status_token(application))
            _count(request, "refused")
            status = form_error_status()
    context = _public_context(form=form, title="Apply for a matching grant")
    return render(request, "grants/apply.html", context, status=status)


@login_not_required
@require_safe
def lodge_lookup(request: HttpRequest) -> HttpResponse:
    """The lodge's name, shown back as the number is typed (from the mirror, never Ninox)."""
    raw = request.GET.get("lodge_number", "").strip()
    lodge = lodge_by_number(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else None
    return render(request, "grants/apply.html#lodge-name", {"lodge": lodge, "typed": raw})


@login_not_required
@require_safe
def status(request: HttpRequest, token: str) -> HttpResponse:
    application = application_for_status_token(token)
    if application is None:
        raise Http404("No application at this link.")
    return render(
        request,
        "grants/status.html",
        _public_context(
            title=f"Application {application.reference}",
            application=application,
            decision=latest_decision(application),
            fiscal_year=fiscal_year_label(application),
            payment_url=payment_url(application),
        ),
    )
