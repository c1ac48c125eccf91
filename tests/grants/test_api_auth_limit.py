"""Failed API authentications are limited per client address (issue 16, finding 4).

The per-token request limit stays per token; this one stops guessing tokens.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from grants.services.api_tokens import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> Any:
    cache.clear()
    settings.PORTAL_PROXY_COUNT = 1
    settings.PORTAL_API_AUTH_FAILURES_PER_HOUR = 3
    yield
    cache.clear()


def get_from(forwarded_for: str, token: str) -> Any:
    return Client().get(
        "/api/v1/applications/MG-0000-0000",
        headers={"Authorization": f"Bearer {token}"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_an_address_that_keeps_failing_is_refused_even_with_a_good_token() -> None:
    _, good = api_token_create(name="website")
    for attempt in range(3):
        assert get_from("203.0.113.5", f"gp_guess_{attempt}").status_code == 401
    refused = get_from("203.0.113.5", good)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "failed authentications" in refused.json()["message"]
    assert get_from("6.6.6.6, 203.0.113.5", good).status_code == 429


def test_the_website_behind_the_same_proxy_is_not_affected() -> None:
    _, good = api_token_create(name="website")
    for attempt in range(3):
        get_from("203.0.113.5", f"gp_guess_{attempt}")
    assert get_from("198.51.100.7", good).status_code == 404


def test_successful_requests_do_not_count_as_failures() -> None:
    _, good = api_token_create(name="website")
    for _ in range(5):
        assert get_from("198.51.100.7", good).status_code == 404
