"""No secret setting's value reaches a log line, a page, an email or an error report."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings
from django.views.debug import get_exception_reporter_class

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CANARIES = {
    "SECRET_KEY": "canary-secret-key-" + "k" * 40,
    "NINOX_API_KEY": "canary-ninox-key-5f2c9e",
    "STRIPE_SECRET_KEY": "sk_test_canarystripe0123456789",
    "STRIPE_WEBHOOK_SECRET": "whsec_canarywebhook0123456789",
    "EMAIL_HOST_PASSWORD": "canary-smtp-password-77",
    "DEMO_PASSWORD": "canary-demo-password-42",
}


def assert_no_canary(text: str) -> None:
    for name, value in CANARIES.items():
        assert value not in text, f"{name} leaked"


@pytest.fixture
def canaries() -> Any:
    with override_settings(**CANARIES):
        yield CANARIES


def test_log_lines_are_masked(canaries: dict[str, str], caplog: Any) -> None:
    from portal.lib.secrets import RedactSecretsFilter

    logger = logging.getLogger("portal.test")
    handler = logging.StreamHandler(stream=sys.stderr)
    handler.addFilter(RedactSecretsFilter())
    caplog.handler.addFilter(RedactSecretsFilter())
    logger.warning(
        "calling Ninox with %s and %s", canaries["NINOX_API_KEY"], canaries["STRIPE_SECRET_KEY"]
    )
    try:
        raise RuntimeError(f"auth failed for {canaries['NINOX_API_KEY']}")
    except RuntimeError:
        logger.exception("failure")
    assert_no_canary(caplog.text)
    assert "********" in caplog.text


def test_pages_never_show_a_secret(canaries: dict[str, str], cast: dict[str, Any]) -> None:
    for visitor in ("anonymous", "reviewer", "finance", "admin"):
        for path in ("/", "/login/", "/health/", "/healthz", "/password-reset/", "/nope/"):
            assert_no_canary(client_for(cast[visitor]).get(path).content.decode())


def test_an_error_report_never_shows_a_secret(canaries: dict[str, str]) -> None:
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {canaries['NINOX_API_KEY']}")
    ninox_key = canaries["NINOX_API_KEY"]  # a local variable in the failing frame
    try:
        raise ValueError(f"Ninox said no to {ninox_key}")
    except ValueError:
        reporter_class: Any = get_exception_reporter_class(request)
        reporter = reporter_class(request, *sys.exc_info())
        assert_no_canary(reporter.get_traceback_text())
        assert_no_canary(reporter.get_traceback_html())


def test_emails_never_carry_a_secret(
    canaries: dict[str, str], reviewer: Any, mailoutbox: list[Any]
) -> None:
    Client().post("/password-reset/", {"email": reviewer.email})
    assert mailoutbox
    for message in mailoutbox:
        assert_no_canary(message.subject + message.body + str(message.alternatives))
