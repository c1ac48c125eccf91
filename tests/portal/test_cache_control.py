"""``Cache-Control: no-store, private`` on what a shared browser or proxy must not keep
(issue 16, finding 5): signed-in pages, downloads, and the public pages opened by a token."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from grants.selectors.applications import status_token
from tests.conftest import client_for
from tests.factories import ApplicationFactory, LodgeFactory

pytestmark = pytest.mark.django_db

NO_STORE = "no-store, private"


@pytest.fixture
def application(db: Any) -> Any:
    lodge = LodgeFactory.create(ninox_id=1, number=7, name="Harmony Lodge No. 7")
    return ApplicationFactory.create(approved=True, lodge=lodge)


@pytest.mark.parametrize("path", ["/", "/queue/", "/manage/users/", "/manage/audit/"])
def test_every_page_for_a_signed_in_user_is_not_stored(admin_user: Any, path: str) -> None:
    response = client_for(admin_user).get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_a_download_is_not_stored(admin_user: Any) -> None:
    response = client_for(admin_user).get("/manage/audit/", {"format": "csv"})
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == NO_STORE


def test_the_status_page_is_not_stored(application: Any) -> None:
    response = Client().get(f"/status/{status_token(application)}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


def test_the_payment_page_is_not_stored(application: Any, settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = None
    response = Client().get(f"/pay/{application.payment_token}/")
    assert response["Cache-Control"] == NO_STORE


def test_the_two_factor_page_with_its_secret_is_not_stored(reviewer: Any) -> None:
    response = client_for(reviewer).get("/account/two-factor/")
    assert "Key:" in response.content.decode()
    assert response["Cache-Control"] == NO_STORE


def test_a_password_reset_link_is_not_stored() -> None:
    response = Client().get("/password-reset/MQ/set-password/")
    assert response["Cache-Control"] == NO_STORE


def test_an_api_reply_is_not_stored() -> None:
    response = Client().get(
        "/api/v1/applications/MG-0000-0000", headers={"Authorization": "Bearer gp_x_y"}
    )
    assert response["Cache-Control"] == NO_STORE


def test_the_public_apply_form_may_be_cached_as_before() -> None:
    assert "no-store" not in Client().get("/apply/").get("Cache-Control", "")
