"""Emails come in triples: ``emails/<name>-subject.txt``, ``-body.txt``, ``-body.html``;
every one is signed with the foundation's name and contact address (``emails/signature.*``)."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def build_email(name: str, context: dict[str, Any], to: Sequence[str]) -> EmailMultiAlternatives:
    """The email ``name`` rendered with ``context``: one subject line, a text and an HTML body."""
    context = {
        "base_url": settings.PORTAL_BASE_URL,
        "foundation_name": settings.FOUNDATION_NAME,
        "contact_email": contact_email(),
        **context,
    }
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = render_to_string(f"emails/{name}-body.txt", context).rstrip("\n") + "\n\n"
    text += render_to_string("emails/signature.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    html += render_to_string("emails/signature.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=list(to))
    message.attach_alternative(html, "text/html")
    return message


def contact_email() -> str:
    """Where lodges and staff write with questions: the address emails are sent from."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
