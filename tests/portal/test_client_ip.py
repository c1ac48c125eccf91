"""One client address behind proxies (issue 16, finding 4): lockouts and the audit log.

A simulated proxy: REMOTE_ADDR is the proxy, and it appends the address it got the
request from to X-Forwarded-For, after whatever the client sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from portal.lib.http import client_ip
from portal.models import AuditEvent
from tests.conftest import PASSWORD

PROXY = "10.0.0.1"


def via_proxy(forwarded_for: str) -> dict[str, Any]:
    return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}


def ip_of(**meta: Any) -> str | None:
    return client_ip(RequestFactory().get("/", **meta))


@override_settings(PORTAL_PROXY_COUNT=1)
def test_two_clients_behind_the_proxy_are_two_addresses() -> None:
    assert ip_of(**via_proxy("203.0.113.5")) == "203.0.113.5"
    assert ip_of(**via_proxy("198.51.100.7")) == "198.51.100.7"


@override_settings(PORTAL_PROXY_COUNT=1)
@pytest.mark.parametrize(
    "spoofed", ["198.51.100.7, 203.0.113.5", "1.1.1.1, 8.8.8.8, 203.0.113.5", "junk, 203.0.113.5"]
)
def test_a_spoofed_left_most_entry_does_not_change_the_address(spoofed: str) -> None:
    assert ip_of(**via_proxy(spoofed)) == "203.0.113.5"


@override_settings(PORTAL_PROXY_COUNT=1)
def test_other_client_headers_are_not_trusted() -> None:
    meta = {**via_proxy("203.0.113.5"), "HTTP_X_REAL_IP": "6.6.6.6", "HTTP_CLIENT_IP": "6.6.6.6"}
    assert ip_of(**meta) == "203.0.113.5"


@override_settings(PORTAL_PROXY_COUNT=2)
def test_two_proxies_take_the_second_entry_from_the_right() -> None:
    assert ip_of(**via_proxy("6.6.6.6, 203.0.113.5, 192.0.2.10")) == "203.0.113.5"


@override_settings(PORTAL_PROXY_COUNT=1)
def test_a_request_that_skipped_the_proxy_is_its_own_address() -> None:
    assert ip_of(REMOTE_ADDR="192.0.2.44") == "192.0.2.44"


@override_settings(PORTAL_PROXY_COUNT=0)
def test_without_proxies_the_header_is_ignored() -> None:
    assert ip_of(**via_proxy("203.0.113.5")) == PROXY


def sign_in(client: Client, password: str, forwarded_for: str) -> Any:
    return client.post(
        reverse("login"), {"username": "rita", "password": password}, **via_proxy(forwarded_for)
    )


@pytest.mark.django_db
@override_settings(PORTAL_PROXY_COUNT=1)
def test_five_wrong_passwords_behind_the_proxy_lock_out_only_that_client(reviewer: Any) -> None:
    attacker = Client()
    for _ in range(5):
        sign_in(attacker, "wrong", "203.0.113.66")
    assert sign_in(attacker, PASSWORD, "203.0.113.66").status_code == 429
    # A spoofed left-most entry does not get the attacker a fresh address.
    assert sign_in(Client(), PASSWORD, "198.51.100.1, 203.0.113.66").status_code == 429
    # Rita, behind the same proxy from her own address, still signs in.
    assert sign_in(Client(), PASSWORD, "198.51.100.7").status_code == 302


@pytest.mark.django_db
@override_settings(PORTAL_PROXY_COUNT=1)
def test_the_audit_log_records_the_client_behind_the_proxy(reviewer: Any) -> None:
    sign_in(Client(), "wrong", "6.6.6.6, 203.0.113.66")
    sign_in(Client(), PASSWORD, "198.51.100.7")
    assert AuditEvent.objects.get(action="auth.login_failed").ip == "203.0.113.66"
    assert AuditEvent.objects.get(action="auth.login").ip == "198.51.100.7"
