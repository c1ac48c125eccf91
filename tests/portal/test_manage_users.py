"""Admin pages for staff users: invite, set a password, sign in; roles; deactivate; 2FA reset."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import AuditEvent
from tests.conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-long-and-fresh-passphrase-42"


def test_an_admin_invites_a_reviewer_who_sets_a_password_and_signs_in(
    admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    admin = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/manage/users/invite/",
            {
                "email": "Rae@Example.org",
                "username": "rae",
                "first_name": "Rae",
                "roles": ["Reviewer"],
            },
        )
    assert response.status_code == 302
    assert response["Location"] == "/manage/users/rae/"
    rae = User.objects.get(username="rae")
    assert rae.email == "rae@example.org"
    assert not rae.has_usable_password()
    assert list(rae.groups.values_list("name", flat=True)) == ["Reviewer"]
    assert AuditEvent.objects.filter(action="user.invited", object_id="rae").exists()
    [email] = mail.outbox
    assert email.to == ["rae@example.org"]
    link = re.search(r"https?://[^/\s]+(/password-reset/\S+/)", str(email.body))
    assert link is not None

    newcomer = Client()
    set_page = newcomer.get(link.group(1), follow=True)
    assert set_page.status_code == 200
    form_url = set_page.redirect_chain[-1][0]
    done = newcomer.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    signed_in = newcomer.post("/login/", {"username": "rae", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302
    assert newcomer.get("/queue/").status_code == 200
    # The link works once.
    assert (
        "Password reset unsuccessful" in Client().get(link.group(1), follow=True).content.decode()
    )


def test_an_invite_with_a_bad_email_or_a_taken_username_names_the_field(
    admin_user: Any, reviewer: Any
) -> None:
    admin = client_for(admin_user)
    page = admin.post("/manage/users/invite/", {"email": "not-an-email", "username": "x"})
    assert page.status_code == 422
    assert "Email: Enter a valid email address." in page.content.decode()
    taken = admin.post(
        "/manage/users/invite/",
        {"email": "new@example.org", "username": "rita"},
        headers={"HX-Request": "true"},
    )
    assert taken.status_code == 422
    assert "Username: rita is taken." in taken.content.decode()
    assert not User.objects.filter(email="new@example.org").exists()


def test_a_deactivated_users_open_session_is_refused_on_its_next_request(
    admin_user: Any, reviewer: Any
) -> None:
    session = Client()
    assert session.post("/login/", {"username": "rita", "password": PASSWORD}).status_code == 302
    assert session.get("/queue/").status_code == 200
    response = client_for(admin_user).post(
        "/manage/users/rita/action/", {"action": "deactivate", "confirm": "yes"}, follow=True
    )
    assert "rita is deactivated; 1 open session(s) ended." in response.content.decode()
    refused = session.get("/queue/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/login/")
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.actor_name == "ada"
    assert event.after == {"is_active": False}


def test_an_admin_cannot_deactivate_themself_or_drop_their_own_admin_role(
    admin_user: Any,
) -> None:
    admin = client_for(admin_user)
    page = admin.post("/manage/users/ada/action/", {"action": "deactivate"}, follow=True)
    assert "You cannot deactivate your own account." in page.content.decode()
    roles = admin.post("/manage/users/ada/", {"roles": ["Finance"]})
    assert "ask another admin to remove your Admin role" in roles.content.decode()
    admin_user.refresh_from_db()
    assert admin_user.is_active
    assert admin_user.groups.filter(name="Admin").exists()


def test_deactivating_asks_to_confirm_and_says_the_user_is_signed_out_at_once(
    admin_user: Any, reviewer: Any
) -> None:
    page = client_for(admin_user).post("/manage/users/rita/action/", {"action": "deactivate"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "Deactivate rita?" in text
    assert "signed out everywhere at once and cannot sign in again" in text
    assert 'name="confirm" value="yes"' in text
    assert 'name="action" value="deactivate"' in text
    assert 'href="/manage/users/rita/"' in text  # the way back
    reviewer.refresh_from_db()
    assert reviewer.is_active
    assert not AuditEvent.objects.filter(action="user.deactivated").exists()


def test_resetting_the_second_factor_asks_to_confirm_and_keeps_the_devices_until_then(
    admin_user: Any, finance: Any
) -> None:
    TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    page = client_for(admin_user).post(
        "/manage/users/fin/action/", {"action": "reset_second_factor"}
    )
    text = page.content.decode()
    assert "Reset the second factor of" in text
    assert "authenticator app and backup codes stop working at once" in text
    assert TOTPDevice.objects.filter(user=finance).exists()


def test_reactivating_needs_no_confirmation(admin_user: Any, reviewer: Any) -> None:
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])
    response = client_for(admin_user).post("/manage/users/rita/action/", {"action": "reactivate"})
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.is_active


def test_removing_ones_own_admin_role_names_the_field_once_and_keeps_the_other_choices(
    admin_user: Any,
) -> None:
    page = client_for(admin_user).post("/manage/users/ada/", {"roles": ["Finance"]})
    assert page.status_code == 422
    text = page.content.decode()
    assert "Roles: ask another admin to remove your Admin role." in text
    assert "Roles: Roles:" not in text
    checked = set(
        re.findall(r'<input type="checkbox" name="roles" value="(\w+)"[^>]*checked', text)
    )
    assert checked == {"Admin", "Finance"}


def test_the_manage_index_lists_every_section_with_what_it_is_for(admin_user: Any) -> None:
    page = client_for(admin_user).get("/manage/")
    assert page.status_code == 200
    text = page.content.decode()
    for url in ("/manage/users/", "/manage/audit/", "/manage/rules/", "/manage/tokens/"):
        assert f'href="{url}"' in text
    assert "Invite staff, set their roles" in text
    assert "the foundation's website sends applications with" in text.replace("&#x27;", "'")


def test_roles_are_assigned_and_audited_with_before_and_after(
    admin_user: Any, reviewer: Any
) -> None:
    response = client_for(admin_user).post(
        "/manage/users/rita/", {"roles": ["Reviewer", "Finance"]}
    )
    assert response.status_code == 302
    assert set(reviewer.groups.values_list("name", flat=True)) == {"Reviewer", "Finance"}
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.before == {"roles": ["Reviewer"]}
    assert event.after == {"roles": ["Finance", "Reviewer"]}
    assert client_for(reviewer).get("/reports/").status_code == 200


def test_resetting_the_second_factor_removes_the_users_devices(
    admin_user: Any, finance: Any
) -> None:
    TOTPDevice.objects.create(user=finance, name="phone", confirmed=True)
    admin = client_for(admin_user)
    assert "1 device" in admin.get("/manage/users/fin/").content.decode()
    page = admin.post(
        "/manage/users/fin/action/",
        {"action": "reset_second_factor", "confirm": "yes"},
        follow=True,
    )
    assert "Second factor of fin reset (1 device(s) removed)." in page.content.decode()
    assert not TOTPDevice.objects.filter(user=finance).exists()
    assert AuditEvent.objects.filter(action="user.second_factor_reset", object_id="fin").exists()


def test_the_user_list_shows_roles_state_and_last_sign_in(
    admin_user: Any, reviewer: Any, finance: Any
) -> None:
    Client().post("/login/", {"username": "fin", "password": PASSWORD})
    reviewer.is_active = False
    reviewer.save()
    page = client_for(admin_user).get("/manage/users/").content.decode()
    assert "deactivated" in page
    assert "never" in page  # rita never signed in
    finance.refresh_from_db()
    assert finance.last_login is not None
    assert f"{finance.last_login:%Y}" in page
