"""Keeping secret values (Ninox key, Stripe keys, tokens) out of logs and error reports."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

MASK = "********"


def secret_values() -> list[str]:
    """The configured secret values long enough to be worth masking, longest first."""
    values = []
    for name in getattr(settings, "SECRET_SETTING_NAMES", ()):
        value = getattr(settings, name, None)
        if isinstance(value, str) and len(value) >= 8:
            values.append(value)
    return sorted(values, key=len, reverse=True)


def redact(text: str) -> str:
    """Replace every configured secret value in ``text`` by a mask."""
    for value in secret_values():
        if value in text:
            text = text.replace(value, MASK)
    return text


class RedactSecretsFilter(logging.Filter):
    """A logging filter that masks secret values in the final message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = str(exc)
            if redact(text) != text:
                # The traceback would print the secret: keep the type, drop the text.
                record.exc_text = f"{type(exc).__name__}: {redact(text)}"
                record.exc_info = None
        return True


# A setting or request header whose name matches holds a secret: its value is masked.
# AUTH covers the Authorization header (API bearer tokens); COOKIE, SESSION and CSRF the
# session; the rest the keys, passwords and signatures of Ninox, Stripe and the mail server.
SECRET_NAME_PATTERN = re.compile(
    "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGN|COOKIE|SESSION|CSRF|CREDENTIAL|PRIVATE|DSN|_URL$|DATABASE",
    flags=re.IGNORECASE,
)


def request_secret_values(request: Any) -> list[str]:
    """The values of a request's secret-looking headers and its cookies, and their parts.

    A bearer token also appears without its ``Bearer`` prefix, and a cookie header is
    several values: each is masked on its own wherever it turns up in a report.
    """
    meta = getattr(request, "META", None)
    if not isinstance(meta, dict):
        return []
    values: set[str] = set()
    for name, value in meta.items():
        if isinstance(name, str) and isinstance(value, str) and SECRET_NAME_PATTERN.search(name):
            values.add(value.strip())
            values.update(part for part in re.split(r"[\s,;=_]+", value) if part)
    cookies = getattr(request, "COOKIES", None) or {}
    values.update(value for value in cookies.values() if isinstance(value, str))
    return sorted((v for v in values if len(v) >= 8), key=len, reverse=True)


def _redact_request(text: str, request: Any) -> str:
    for value in request_secret_values(request):
        for form in {value, escape(value)}:
            text = text.replace(form, MASK)
    return text


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding URLs with credentials and any configured secret value.

    Request headers go through the same name test as settings (Django's
    ``get_safe_request_meta``), so ``HTTP_AUTHORIZATION`` and ``HTTP_COOKIE`` are masked;
    every cookie value is masked, whatever its name.
    """

    hidden_settings = SECRET_NAME_PATTERN

    def get_safe_cookies(self, request: Any) -> dict[str, Any]:
        cookies = getattr(request, "COOKIES", None) or {}
        return dict.fromkeys(cookies, self.cleansed_substitute)

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        if isinstance(cleansed, str):
            return redact(cleansed)
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        frames = super().get_traceback_frame_variables(request, tb_frame)
        return [
            (name, redact(value) if isinstance(value, str) else value) for name, value in frames
        ]


class RedactingExceptionReporter(ExceptionReporter):
    """Error reports (the debug page, the admins' email) with every secret value masked.

    The filter above cleans settings, headers and frame variables; this also catches a
    secret (configured, or a header or cookie value of the failing request) inside an
    exception's message, a local variable or anywhere else in the finished report.
    """

    def get_traceback_html(self) -> SafeString:
        # Masking only replaces secret text inside an already-escaped report.
        html = _redact_request(redact(super().get_traceback_html()), self.request)
        return mark_safe(html)  # noqa: S308  # nosec B308 B703

    def get_traceback_text(self) -> SafeString:
        text = _redact_request(redact(super().get_traceback_text()), self.request)
        return mark_safe(text)  # noqa: S308  # nosec B308 B703
