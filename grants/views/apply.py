"""The public apply form, its live lodge lookup, and the status page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from grants.forms import ApplicationForm
from grants.models import Lodge
from grants.rules import read_rules_once, rules_in_force
from grants.selectors.applications import (
    application_for_status_token,
    fiscal_year_label,
    latest_decision,
    lodge_by_number,
    payment_url,
    status_token,
)
from grants.selectors.figures import lodge_remaining
from grants.selectors.what_next import lodge_news
from grants.services.mirror_refresh import arrival
from grants.services.submit import application_submit
from grants.views.public import public_context, unknown_link
from portal.lib import ratelimit
from portal.lib.errors import PortalError
from portal.lib.http import HtmxHttpRequest, client_ip, form_error_status

HONEYPOT = "website"


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


def _again(request: HttpRequest) -> tuple[ApplicationForm, dict[str, object]]:
    """The form, filled in from a rejected application (``?again=<its status token>``) with
    the match set to what the lodge has left now; empty for anything else."""
    previous = application_for_status_token(request.GET.get("again", "")[:200])
    if previous is None or previous.lodge is None:
        return ApplicationForm(), {}
    left = lodge_remaining(previous.lodge.id)
    initial = {
        "lodge_number": previous.lodge_number,
        "contact_name": previous.contact_name,
        "contact_email": previous.contact_email,
        "charity_name": previous.charity_name,
        "purpose": previous.purpose,
        "amount_raised": f"{previous.amount_raised:.2f}",
        "amount_requested": f"{left.left:.2f}",
        "event_date": previous.event_date.isoformat(),
    }
    return ApplicationForm(initial=initial), _lookup_context(
        previous.lodge, str(previous.lodge_number)
    )


def _lookup_context(lodge: Lodge | None, typed: str) -> dict[str, object]:
    """The lookup's partial: the lodge's name and, if the admin allows, what it has left."""
    shown = lodge is not None and lodge.active and rules_in_force().show_remaining_on_apply
    return {
        "lodge": lodge,
        "typed": typed,
        "left": lodge_remaining(lodge.id) if shown and lodge is not None else None,
    }


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
@read_rules_once  # the form, the decision and the page hold to one read of the rules
def apply(request: HttpRequest) -> HttpResponse:
    form, lookup = _again(request) if request.method != "POST" else (ApplicationForm(), {})
    status = 200
    if request.method == "POST":
        arrived = arrival()  # before the form is read: see mirror_refresh.arrival
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
                    application = application_submit(
                        cleaned=form.application(), source="web", arrived=arrived
                    )
                except PortalError as exc:
                    form = _with_errors(form, exc.errors or {"": [exc.message]})
                else:
                    _count(request, "accepted")
                    return redirect("grants:status", token=status_token(application))
            _count(request, "refused")
            status = form_error_status()
    context = public_context(form=form, title="Apply for a matching grant", **lookup)
    return render(request, "grants/apply.html", context, status=status)


@login_not_required
@require_safe
def lodge_lookup(request: HtmxHttpRequest) -> HttpResponse:
    """The lodge's name and what it has left, shown back as the number is typed (from the
    mirror, never Ninox); limited per address so nobody harvests every lodge's figures."""
    if not ratelimit.allow(
        f"lodge-lookup:{client_ip(request)}",
        limit=settings.PORTAL_LODGE_LOOKUP_RATE_PER_HOUR,
        window_seconds=3600,
    ):
        context = {"limited": True}
        # htmx swaps only a 2xx reply: it shows the sentence; a plain request gets the 429.
        return render(
            request, "grants/apply.html#lodge-name", context, status=200 if request.htmx else 429
        )
    raw = request.GET.get("lodge_number", "").strip()
    lodge = lodge_by_number(int(raw)) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else None
    return render(request, "grants/apply.html#lodge-name", _lookup_context(lodge, raw))


@login_not_required
@require_safe
def status(request: HttpRequest, token: str) -> HttpResponse:
    application = application_for_status_token(token)
    if application is None:
        return unknown_link(request, "status")
    decision = latest_decision(application)
    return render(
        request,
        "grants/status.html",
        public_context(
            title=f"Application {application.reference}",
            application=application,
            token=token,
            decision=decision,
            news=lodge_news(application, decision),
            fiscal_year=fiscal_year_label(application),
            payment_url=payment_url(application),
        ),
    )
