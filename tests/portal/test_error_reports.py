"""Error reports (the admins' email, the debug page) never show a request's credentials.

A canary: a real API token goes through a request that fails, and the error email and
the technical 500 page are searched for it (issue 16, finding 3).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from grants.services.api_tokens import api_token_create
from portal.lib.secrets import RedactingExceptionReporterFilter
from tests.grants.conftest import valid_body

pytestmark = pytest.mark.django_db

SESSION_CANARY = "session-canary-5f0e9c1d2b7a"


def _fail_in_authenticate(header: str) -> Any:
    # The header is a local variable of the failing frame, as in a real bug there.
    raise RuntimeError("the token table is unavailable")


def _fail_in_submit(**kwargs: Any) -> Any:
    raise RuntimeError("Ninox is down")


@pytest.fixture(params=["authenticate", "application_submit"])
def failing_api(request: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    target = {"authenticate": _fail_in_authenticate, "application_submit": _fail_in_submit}
    monkeypatch.setattr(f"grants.views.api.{request.param}", target[request.param])


def fail_with_token(token: str) -> Any:
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = SESSION_CANARY
    return client.post(
        "/api/v1/applications",
        data=valid_body(123),  # valid, so the request reaches application_submit
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "X-Api-Key": token},
    )


def token_parts(token: str) -> list[str]:
    """The token and its secret part alone (what a partial leak would show).

    The secret is everything after ``gp_<prefix>_``: it may itself contain ``_``, and
    splitting on the last one once left a fragment short enough to occur in any report.
    """
    secret = token.split("_", 2)[2]
    assert len(secret) >= 40
    return [token, secret]


@override_settings(ADMINS=[("Ops", "ops@example.org")])
@pytest.mark.usefixtures("failing_api")
def test_the_error_email_masks_the_bearer_token_and_cookies() -> None:
    _, token = api_token_create(name="website")
    response = fail_with_token(token)
    assert response.status_code == 500
    [email] = mail.outbox
    assert email.to == ["ops@example.org"]
    report = str(email.body) + "".join(str(alt[0]) for alt in getattr(email, "alternatives", []))
    assert "RuntimeError" in report  # the report is there, only the secrets are not
    assert "HTTP_AUTHORIZATION" in report
    for secret in [*token_parts(token), SESSION_CANARY]:
        assert secret not in report


@override_settings(DEBUG=True, ADMINS=[])
@pytest.mark.usefixtures("failing_api")
def test_the_debug_page_masks_the_bearer_token_and_cookies() -> None:
    _, token = api_token_create(name="website")
    response = fail_with_token(token)
    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page
    assert "HTTP_AUTHORIZATION" in page
    for secret in [*token_parts(token), SESSION_CANARY]:
        assert secret not in page


@pytest.mark.parametrize(
    "name",
    [
        "HTTP_AUTHORIZATION",
        "HTTP_COOKIE",
        "HTTP_PROXY_AUTHORIZATION",
        "HTTP_X_API_KEY",
        "HTTP_X_AUTH_TOKEN",
        "HTTP_STRIPE_SIGNATURE",
        "HTTP_X_CSRFTOKEN",
        "SESSION_COOKIE_NAME",
        "EMAIL_HOST_PASSWORD",
        "AUTH_LDAP_BIND_PASSWORD",
        "SENTRY_DSN",
        "REDIS_URL",
        "AWS_SECRET_ACCESS_KEY",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "PRIVATE_KEY_PEM",
    ],
)
def test_every_secret_looking_name_is_masked(name: str) -> None:
    cleansed = RedactingExceptionReporterFilter().cleanse_setting(name, "s3cr3t-value-1234")
    assert cleansed != "s3cr3t-value-1234"


@pytest.mark.parametrize("name", ["HTTP_USER_AGENT", "REQUEST_METHOD", "PATH_INFO", "TIME_ZONE"])
def test_plain_names_stay_readable(name: str) -> None:
    assert RedactingExceptionReporterFilter().cleanse_setting(name, "visible") == "visible"
