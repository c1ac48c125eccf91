"""The apply form's per-address limits behind a proxy (issue 16, finding 4).

Accepted applications have one limit; refused posts their own, higher one. Both are
per client address, read behind PORTAL_PROXY_COUNT proxies.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from grants.models import Application, Lodge
from tests.grants.conftest import valid_body

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> Any:
    cache.clear()
    settings.PORTAL_PROXY_COUNT = 1
    settings.PORTAL_APPLY_RATE_PER_HOUR = 2
    settings.PORTAL_APPLY_INVALID_RATE_PER_HOUR = 5
    yield
    cache.clear()


def apply_from(forwarded_for: str, body: dict[str, Any]) -> Any:
    return Client().post(
        "/apply/", body, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for
    )


def small(lodge: Lodge) -> dict[str, Any]:
    return valid_body(lodge.number, amount_requested="1.00", amount_raised="1.00")


def junk(lodge: Lodge) -> dict[str, Any]:
    return valid_body(lodge.number, amount_requested="abc")


def test_invalid_posts_do_not_use_up_the_limit_on_applications(fresh_lodge: Lodge) -> None:
    for _ in range(4):
        assert apply_from("203.0.113.5", junk(fresh_lodge)).status_code == 422
    assert apply_from("203.0.113.5", small(fresh_lodge)).status_code == 302


def test_invalid_posts_have_their_own_higher_limit(fresh_lodge: Lodge) -> None:
    for _ in range(5):
        assert apply_from("203.0.113.5", junk(fresh_lodge)).status_code == 422
    refused = apply_from("203.0.113.5", junk(fresh_lodge))
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()


def test_accepted_applications_are_limited_per_client_behind_the_proxy(
    fresh_lodge: Lodge,
) -> None:
    for _ in range(2):
        assert apply_from("203.0.113.5", small(fresh_lodge)).status_code == 302
    limited = apply_from("203.0.113.5", small(fresh_lodge))
    assert limited.status_code == 429
    assert "Too many applications" in limited.content.decode()
    # A spoofed left-most entry is the same client.
    assert apply_from("198.51.100.99, 203.0.113.5", small(fresh_lodge)).status_code == 429
    # Another lodge behind the same proxy is another address.
    assert apply_from("198.51.100.7", small(fresh_lodge)).status_code == 302
    assert Application.objects.count() == 3
