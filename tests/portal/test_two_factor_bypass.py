"""The second factor cannot be skipped with the password alone (issue 16, finding 1).

Both bypasses are replayed as they were tried: a session that passed only the password
(a) asks for new backup codes and verifies with one, or (b) enrols its own authenticator
and verifies with it; either way it must not reach an Admin page.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_require_2fa")]


@pytest.fixture
def _require_2fa() -> Any:
    with override_settings(PORTAL_REQUIRE_2FA=True):
        yield


@pytest.fixture
def enrolled_admin(admin_user: Any) -> Any:
    """An Admin whose own phone holds the only authenticator."""
    TOTPDevice.objects.create(user=admin_user, name="Ada's phone", confirmed=True)
    return admin_user


def password_only_session(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def reaches_manage_users(client: Client) -> bool:
    return client.get("/manage/users/").status_code == 200


def verify(client: Client, token: str) -> Any:
    return client.post(reverse("two_factor_verify"), {"token": token, "next": "/manage/users/"})


def test_a_password_only_session_gets_no_backup_codes_to_verify_with(enrolled_admin: Any) -> None:
    client = password_only_session("ada")
    response = client.post(reverse("two_factor_backup_codes"))
    codes = re.findall(r"<code>(\w+)</code>", response.content.decode())
    assert codes == []
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_verify"))
    assert not StaticDevice.objects.filter(user=enrolled_admin).exists()
    # As tried: verify with whatever the page gave, and go to the Admin page.
    for code in codes or ["00000000"]:
        verify(client, code)
    assert not reaches_manage_users(client)


def test_a_password_only_session_cannot_enrol_its_own_authenticator(enrolled_admin: Any) -> None:
    client = password_only_session("ada")
    page = client.get(reverse("two_factor_setup"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("two_factor_verify"))
    assert not TOTPDevice.objects.filter(user=enrolled_admin, confirmed=False).exists()
    # As tried: the attacker's app holds a key; with it, confirm and then verify.
    attacker = TOTPDevice(user=enrolled_admin, name="attacker")
    enrolment = client.post(reverse("two_factor_setup"), {"token": f"{totp(attacker.bin_key):06d}"})
    assert enrolment.status_code == 302
    verify(client, f"{totp(attacker.bin_key):06d}")
    assert not reaches_manage_users(client)
    assert TOTPDevice.objects.filter(user=enrolled_admin).count() == 1


def test_a_password_only_session_sees_no_new_secret_on_the_setup_page(
    enrolled_admin: Any,
) -> None:
    client = password_only_session("ada")
    page = client.get(f"{reverse('two_factor_setup')}?add=1", follow=True)
    assert "<svg" not in page.content.decode()
    assert "Key:" not in page.content.decode()


def verified_session(user: Any) -> Client:
    client = password_only_session(user.username)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert verify(client, f"{totp(device.bin_key):06d}").status_code == 302
    return client


def test_a_verified_session_adds_an_authenticator_which_is_audited_and_emailed(
    enrolled_admin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = verified_session(enrolled_admin)
    page = client.get(f"{reverse('two_factor_setup')}?add=1")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    new = TOTPDevice.objects.get(user=enrolled_admin, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("two_factor_setup"), {"token": f"{totp(new.bin_key):06d}"})
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=enrolled_admin, confirmed=True).count() == 2
    event = AuditEvent.objects.get(action="auth.2fa_enrolled", actor=enrolled_admin)
    assert event.after is not None
    assert event.after["devices"] == 2
    [email] = mail.outbox
    assert email.to == ["ada@example.org"]
    assert "authenticator" in email.subject.lower()
    assert "http://127.0.0.1:8000/account/password/" in str(email.body)


def test_a_verified_session_renews_backup_codes_after_confirming(enrolled_admin: Any) -> None:
    client = verified_session(enrolled_admin)
    before = set(StaticToken.objects.values_list("token", flat=True))
    asked = client.post(reverse("two_factor_backup_codes"))
    assert asked.status_code == 200
    page = asked.content.decode()
    assert "Your current backup codes stop working at once" in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert "codes" not in asked.context or not asked.context.get("codes")
    assert set(StaticToken.objects.values_list("token", flat=True)) == before  # not yet
    response = client.post(reverse("two_factor_backup_codes"), {"confirm": "yes"})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10
    assert not before & set(StaticToken.objects.values_list("token", flat=True))


def test_the_first_enrolment_right_after_the_password_still_works_and_is_emailed(
    finance: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = password_only_session("fin")
    client.get(reverse("two_factor_setup"))
    device = TOTPDevice.objects.get(user=finance, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("two_factor_setup"), {"token": f"{totp(device.bin_key):06d}"}
        )
    assert response.status_code == 200
    assert len(mail.outbox) == 1
    assert client.get("/").status_code == 200


def test_the_command_lists_users_with_more_than_one_authenticator(
    enrolled_admin: Any, finance: Any, reviewer: Any
) -> None:
    TOTPDevice.objects.create(user=enrolled_admin, name="unknown", confirmed=True)
    TOTPDevice.objects.create(user=finance, name="Fin's phone", confirmed=True)
    StaticDevice.objects.create(user=finance, name="Backup codes")  # not an authenticator
    TOTPDevice.objects.create(user=reviewer, name="Rita's phone", confirmed=True)
    TOTPDevice.objects.create(user=reviewer, name="half-enrolled", confirmed=False)
    out = StringIO()
    call_command("list_extra_authenticators", stdout=out)
    listed = re.findall(r"^(\w+): (\d+) authenticators$", out.getvalue(), flags=re.M)
    assert listed == [("ada", "2")]
    assert "'unknown'" in out.getvalue()


def test_the_command_says_so_when_no_user_has_two(enrolled_admin: Any) -> None:
    out = StringIO()
    call_command("list_extra_authenticators", stdout=out)
    assert out.getvalue().strip() == "No user has more than one authenticator."
