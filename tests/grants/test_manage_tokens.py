"""API tokens: created and shown once, used by the API, revoked; each audited."""

from __future__ import annotations

import re
from typing import Any

import pytest

from grants.models import ApiToken
from grants.services.api_tokens import authenticate
from portal.models import AuditEvent
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_works_and_stops_working_when_revoked(admin_user: Any) -> None:
    client = client_for(admin_user)
    created = client.post("/manage/tokens/", {"name": "Website"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store, private"
    match = re.search(r"gp_[0-9a-f]{8}_[A-Za-z0-9_-]+", created.content.decode())
    assert match is not None
    plain = match.group(0)
    token = ApiToken.objects.get(name="Website")
    assert authenticate(f"Bearer {plain}") == token
    listing = client.get("/manage/tokens/").content.decode()
    assert plain not in listing
    assert f"gp_{token.prefix}_…" in listing
    assert "Website" in listing
    token.refresh_from_db()
    assert token.last_used_at is not None

    asked = client.post(f"/manage/tokens/{token.prefix}/revoke/")
    assert asked.status_code == 200
    assert "the website will stop sending applications" in asked.content.decode()
    assert authenticate(f"Bearer {plain}") == token  # not yet revoked
    revoked = client.post(f"/manage/tokens/{token.prefix}/revoke/", {"confirm": "yes"}, follow=True)
    assert "is revoked" in revoked.content.decode()
    assert authenticate(f"Bearer {plain}") is None
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"api_token.created", "api_token.revoked"} <= actions


def test_a_token_needs_a_name(admin_user: Any) -> None:
    page = client_for(admin_user).post("/manage/tokens/", {"name": ""})
    assert "Name: This field is required." in page.content.decode()
    assert not ApiToken.objects.exists()
