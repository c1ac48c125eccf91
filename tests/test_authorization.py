"""Every URL pattern, every kind of visitor: an explicit table of what each may GET.

The table is `tests/authorization_table.py`. A pattern missing from it fails the test, so
each new page states who may see it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.authorization_table import EXPECTED, VISITORS, named_patterns
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_every_url_pattern_is_in_the_table() -> None:
    names = set(named_patterns())
    assert names - set(EXPECTED) == set(), "add these patterns to EXPECTED"
    assert set(EXPECTED) - names == set(), "these table rows name no pattern"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_visitor_gets_what_the_table_says(name: str, cast: dict[str, Any]) -> None:
    statuses, kwargs = EXPECTED[name]
    url = reverse(name, kwargs=kwargs or None)
    seen = {}
    for visitor in VISITORS:
        response = client_for(cast[visitor]).get(url)
        seen[visitor] = response.status_code
        if response.status_code == 302 and visitor == "anonymous":
            assert response["Location"].startswith(reverse("login")), (
                f"{name}: anonymous sent elsewhere"
            )
    assert seen == dict(zip(VISITORS, statuses, strict=True))


def test_a_forbidden_page_names_the_role_needed(outsider: Any) -> None:
    response = client_for(outsider).get(reverse("home"))
    assert response.status_code == 403
    assert "This needs the Reviewer, Finance or Admin role." in response.content.decode()


def test_the_django_admin_is_for_superusers_only(cast: dict[str, Any]) -> None:
    for visitor in VISITORS:
        response = client_for(cast[visitor]).get("/django-admin/")
        assert response.status_code == 302, visitor
        assert "/django-admin/login/" in response["Location"]


CSRF_PROTECTED_POSTS = [
    ("logout", {}),
    ("two_factor_backup_codes", {}),
    ("two_factor_setup", {"token": "123456"}),
    ("password_change", {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
]


@pytest.mark.parametrize(("name", "data"), CSRF_PROTECTED_POSTS)
def test_a_cookie_authenticated_post_without_a_csrf_token_is_refused(
    name: str, data: dict[str, str], reviewer: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    response = client.post(reverse(name), data)
    assert response.status_code == 403
    assert "Reload the page" in response.content.decode()


def test_the_login_form_needs_a_csrf_token() -> None:
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "a", "password": "b"}
    )
    assert response.status_code == 403
