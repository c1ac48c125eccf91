"""Keeping secret values (Ninox key, Stripe keys, tokens) out of logs and error reports."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
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


class RedactingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding URLs with credentials and any configured secret value."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|DSN|_URL$|DATABASE", flags=re.IGNORECASE
    )

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

    The filter above cleans settings and frame variables; this also catches a secret
    inside an exception's message or anywhere else in the finished report.
    """

    def get_traceback_html(self) -> SafeString:
        # Masking only replaces secret text inside an already-escaped report.
        return mark_safe(redact(super().get_traceback_html()))  # noqa: S308  # nosec B308 B703

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # noqa: S308  # nosec B308 B703
