"""The public apply form, its live lodge lookup, and the status page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from grants.intake import FIELDS, LABELS
from grants.money import format_money
from grants.rules import rules_in_force
from grants.selectors import (
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
from portal.lib.http import client_ip

HONEYPOT = "website"


class ApplyForm(forms.Form):
    """Renders the fields; the rules are in ``grants.intake`` (shared with the API).

    Fields are not ``required`` here so Django adds no messages of its own: every
    refusal comes from the intake rules, worded the same as the API's.
    """

    use_required_attribute = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False

    lodge_number = forms.CharField(
        label=LABELS["lodge_number"],
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text="Your lodge's number, for example 123.",
    )
    contact_name = forms.CharField(label=LABELS["contact_name"], max_length=200)
    contact_email = forms.CharField(
        label=LABELS["contact_email"],
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    charity_name = forms.CharField(label=LABELS["charity_name"], max_length=200)
    purpose = forms.CharField(
        label=LABELS["purpose"], max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    amount_raised = forms.CharField(
        label=LABELS["amount_raised"],
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="What your lodge raised and will pay in, for example 1,250.00.",
    )
    amount_requested = forms.CharField(
        label=LABELS["amount_requested"],
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text="The match you ask the foundation for: at most the amount raised.",
    )
    event_date = forms.CharField(
        label=LABELS["event_date"], max_length=10, widget=forms.DateInput(attrs={"type": "date"})
    )


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


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def apply(request: HttpRequest) -> HttpResponse:
    form = ApplyForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        limited = _rate_limited(request)
        if request.POST.get(HONEYPOT):
            _count(request, "refused")
            form.add_error(None, "The form could not be sent. Please try again.")
            status = 400
        elif limited:
            form.add_error(None, limited)
            status = 429
        else:
            data = {name: request.POST.get(name, "") for name in FIELDS}
            try:
                application = application_submit(data=data, lenient=True, source="web")
            except PortalError as exc:
                _count(request, "refused")
                form.is_valid()  # binds cleaned data so the page shows what was typed
                for field, messages in exc.errors.items():
                    for message in messages:
                        form.add_error(field if field in form.fields else None, message)
                status = 422
            else:
                _count(request, "accepted")
                return redirect("grants:status", token=status_token(application))
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
