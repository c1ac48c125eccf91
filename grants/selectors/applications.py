"""An application's reads for pages, emails and the API: its links, status token and summary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

from grants.fiscal_year import FiscalYear
from grants.models import Application, Decision, EmailLog, Lodge, Status
from grants.money import ZERO
from grants.rules import rules_in_force
from grants.selectors.figures import lodge_remaining
from grants.selectors.what_next import lodge_news

STATUS_SALT = "grants.application-status"


def status_token(application: Application) -> str:
    return signing.dumps(application.reference, salt=STATUS_SALT)


def application_for_status_token(token: str) -> Application | None:
    try:
        reference = signing.loads(token, salt=STATUS_SALT, max_age=60 * 60 * 24 * 400)
    except signing.BadSignature:
        return None
    return Application.objects.select_related("lodge").filter(reference=reference).first()


def status_url(application: Application) -> str:
    return settings.PORTAL_BASE_URL + reverse("grants:status", args=[status_token(application)])


def apply_again_url(application: Application) -> str:
    """The apply form, filled in from ``application`` (the match: what remains now)."""
    return (
        settings.PORTAL_BASE_URL + reverse("grants:apply") + "?again=" + status_token(application)
    )


def pay_link(application: Application) -> str:
    """The absolute address of the application's payment page (the one way it is built)."""
    return settings.PORTAL_BASE_URL + reverse("grants:pay", args=[application.payment_token])


def payment_url(application: Application) -> str | None:
    """The lodge's payment link, while the application waits for payment."""
    if application.status != Status.APPROVED or not application.payment_token:
        return None
    return pay_link(application)


def latest_decision(application: Application) -> Decision | None:
    """The decision in force: the newest one not undone (an undone one never reached the lodge)."""
    return application.decisions.in_force().first()


def application_decisions(application: Application) -> list[Decision]:
    """Every decision on the application, newest first, with who decided."""
    return list(application.decisions.select_related("decided_by").order_by("-created_at", "-id"))


def application_emails(application: Application) -> list[EmailLog]:
    """The emails sent (or tried) about the application, newest first."""
    return list(EmailLog.objects.filter(application=application).order_by("-created_at", "-id"))


def application_email(application: Application, email_id: int) -> EmailLog | None:
    """One of the application's emails; ``None`` if the id names none of them."""
    return EmailLog.objects.filter(application=application, id=email_id).first()


def api_application(reference: str) -> Application | None:
    """An application the website sent through the API (a web-form one is not its to read)."""
    return Application.objects.filter(reference=reference, source="api").first()


def fiscal_year_label(application: Application) -> str:
    rules = rules_in_force()
    return FiscalYear.from_key(application.fiscal_year, rules.fiscal_year_start).label


def over_cap_by(remaining: Decimal) -> Decimal:
    """How far a remaining below zero is over the cap (0.00, never -0.00, when it is not)."""
    return ZERO if remaining >= 0 else -remaining


def application_summary(application: Application) -> dict[str, Any]:
    """The API's reply shape; amounts as decimal strings."""
    decision = latest_decision(application)
    news = lodge_news(application, decision)
    left = lodge_remaining(application.lodge.id) if application.lodge else None
    return {
        "reference": application.reference,
        "status": application.status,
        "fiscal_year": fiscal_year_label(application),
        "explanation": news.message,  # what the lodge may read: never a staff note
        "cap": str(decision.cap) if decision else None,
        "used": str(decision.used) if decision else None,
        # Never a negative remaining: a lodge over a (lowered) cap has none left, and by how
        # much it is over is its own figure.
        "remaining": str(max(decision.remaining, ZERO)) if decision else None,
        "over_cap_by": str(over_cap_by(decision.remaining)) if decision else None,
        "payment_url": payment_url(application),
        "lodge_left": {
            "amount": str(left.left),
            "fiscal_year": left.fy.label,
            "until": left.fy.end.isoformat(),
            "sentence": left.sentence,
        }
        if left
        else None,
        "what_next": news.what_next,
        "apply_for": str(news.apply_for) if news.apply_for is not None else None,
    }


def lodge_by_number(number: int) -> Lodge | None:
    return Lodge.objects.filter(number=number).first()
