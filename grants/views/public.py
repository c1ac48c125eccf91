"""What the public pages (apply, status, pay) share: their context and the unknown-link page."""

from __future__ import annotations

from email.utils import parseaddr

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from grants.money import format_money
from grants.rules import rules_in_force


def public_context(**extra: object) -> dict[str, object]:
    """What every public page shows: the foundation's contact and the cap."""
    rules = rules_in_force()
    return {
        "grants_contact_email": parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        "annual_cap_display": format_money(rules.annual_cap),
        **extra,
    }


def unknown_link(request: HttpRequest, kind: str) -> HttpResponse:
    """A status or payment link that matches nothing: a public 404 page that says what to do
    (use the email's link again, or write to the grants team), never the staff login."""
    return render(
        request,
        "grants/unknown_link.html",
        public_context(title="Link not recognised", kind=kind),
        status=404,
    )
