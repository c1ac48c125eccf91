from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_login_page_has_one_form_with_username_and_password() -> None:
    response = Client().get("/login/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body
    assert 'name="password"' in body


def test_a_reviewer_signs_in_and_reaches_the_dashboard(reviewer: Any) -> None:
    client = Client()
    response = sign_in(client, "rita")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "Reviewer" in page.content.decode()
    assert AuditEvent.objects.filter(action="auth.login", actor=reviewer).exists()


def test_the_session_key_is_rotated_at_login(reviewer: Any) -> None:
    client = Client()
    client.get("/login/")
    client.session.save()
    before = client.session.session_key
    sign_in(client, "rita")
    assert client.session.session_key != before


def test_a_wrong_password_is_refused_and_audited(reviewer: Any) -> None:
    response = sign_in(Client(), "rita", "nope")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", object_id="rita").count() == 1


def test_five_failures_lock_the_username_from_that_address(reviewer: Any) -> None:
    client = Client()
    for _ in range(5):
        sign_in(client, "rita", "wrong", REMOTE_ADDR="10.0.0.5")
    locked = sign_in(client, "rita", PASSWORD, REMOTE_ADDR="10.0.0.5")
    assert locked.status_code == 429
    assert "locked for 15 minutes" in locked.content.decode()
    # The same username from another address is not locked: the lock is (username, IP).
    other = sign_in(Client(), "rita", PASSWORD, REMOTE_ADDR="10.0.0.6")
    assert other.status_code == 302


def test_the_lock_lifts_after_the_cool_off(reviewer: Any) -> None:
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(5):
        sign_in(client, "rita", "wrong", REMOTE_ADDR="10.0.0.7")
    assert sign_in(client, "rita", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, "rita", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302


def test_logout_ends_the_session(reviewer: Any) -> None:
    client = Client()
    sign_in(client, "rita")
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_deactivation_ends_open_sessions_at_once(reviewer: Any) -> None:
    client = Client()
    sign_in(client, "rita")
    assert client.get("/").status_code == 200
    reviewer.is_active = False
    reviewer.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_roles_and_second_factor_are_read_afresh_on_every_request(
    finance: Any, admin_user: Any
) -> None:
    """``portal.auth_backend`` reads them with the user: a change counts on the next page."""
    client = Client()
    sign_in(client, finance.username)
    assert client.get("/reports/").status_code == 200
    finance.groups.clear()  # an admin takes the role away
    assert client.get("/reports/").status_code == 403
    # A device enrolled elsewhere (another browser) must be verified here too.
    TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_the_session_has_an_idle_limit(settings: Any) -> None:
    assert settings.SESSION_COOKIE_AGE == settings.PORTAL_SESSION_IDLE_HOURS * 3600


def session_saves(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return sum(q["sql"].startswith('UPDATE "django_session"') for q in captured)


def test_a_session_in_use_stays_alive_and_an_idle_one_ends_at_the_limit(
    reviewer: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.PORTAL_SESSION_TOUCH_SECONDS = 60  # the product's (tests/conftest.py sets a day)
    clock = [timezone.now()]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])  # Django's sessions read it too
    age = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    touch = timedelta(seconds=settings.PORTAL_SESSION_TOUCH_SECONDS)
    client = Client()
    sign_in(client, "rita")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value

    def expiry() -> Any:
        return Session.objects.get(session_key=key).expire_date

    # A reviewer at work for longer than the idle limit: a page every ten minutes.
    for _ in range(int(age / timedelta(minutes=10)) + 6):
        clock[0] += timedelta(minutes=10)
        assert client.get("/").status_code == 200
        assert clock[0] + age - touch <= expiry() <= clock[0] + age  # never beyond the limit
    # Pages within the same minute cost no write; the first one after it does.
    clock[0] += touch / 3
    assert session_saves(client, "/") == 0
    clock[0] += touch
    assert session_saves(client, "/") == 1
    # Away for the idle limit: signed out.
    clock[0] += age
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@override_settings(PORTAL_REQUIRE_2FA=True)
@pytest.mark.parametrize("fixture", ["finance", "admin_user"])
def test_finance_and_admin_must_enrol_a_second_factor_when_required(
    fixture: str, request: Any
) -> None:
    user = request.getfixturevalue(fixture)
    client = Client()
    sign_in(client, user.username)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("two_factor_setup")


@override_settings(PORTAL_REQUIRE_2FA=True)
def test_a_reviewer_needs_no_second_factor(reviewer: Any) -> None:
    client = Client()
    sign_in(client, "rita")
    assert client.get("/").status_code == 200


@override_settings(PORTAL_REQUIRE_2FA=True)
def test_enrolment_with_a_valid_code_turns_two_factor_on_and_gives_backup_codes(
    finance: Any,
) -> None:
    client = Client()
    sign_in(client, "fin")
    page = client.get(reverse("two_factor_setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=finance, confirmed=False)
    response = client.post(reverse("two_factor_setup"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 200
    assert "backup codes" in response.content.decode().lower()
    assert len(response.context["codes"]) == 10
    assert client.get("/").status_code == 200


@override_settings(PORTAL_REQUIRE_2FA=True)
def test_an_enrolled_user_must_give_a_code_after_the_password(finance: Any) -> None:
    device = TOTPDevice.objects.create(user=finance, name="app", confirmed=True)
    client = Client()
    sign_in(client, "fin")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    wrong = client.post(reverse("two_factor_verify"), {"token": "000000", "next": "/"})
    assert wrong.status_code == 422
    assert "not valid" in wrong.content.decode()
    # django-otp throttles after a failure; a person would wait a second before retrying.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    right = client.post(
        reverse("two_factor_verify"), {"token": f"{totp(device.bin_key):06d}", "next": "/"}
    )
    assert right.status_code == 302
    assert client.get("/").status_code == 200


def test_the_demo_login_page_says_two_factor_is_off(settings: Any) -> None:
    settings.PORTAL_REQUIRE_2FA = False
    assert (
        "two-factor authentication is <strong>off</strong>"
        in Client().get("/login/").content.decode()
    )


def test_a_password_reset_email_links_to_the_portal(reviewer: Any, mailoutbox: list[Any]) -> None:
    response = Client().post(reverse("password_reset"), {"email": "rita@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/password-reset/" in mailoutbox[0].body
