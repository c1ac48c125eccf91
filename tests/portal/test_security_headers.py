"""A Content-Security-Policy with nonces on every response: pages, partials, errors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def assert_strict_csp(response: Any, *, nonce: bool = True) -> None:
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    # django-csp adds the nonce only when the page used one; without it no inline script runs.
    assert ("'nonce-" in directives["script-src"]) is nonce
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert directives["frame-ancestors"] == "'none'"


def test_a_full_page_sends_the_policy_and_its_scripts_carry_the_nonce(reviewer: Any) -> None:
    response = client_for(reviewer).get("/")
    assert_strict_csp(response)
    body = response.content.decode()
    nonce = response.wsgi_request.csp_nonce  # type: ignore[attr-defined]
    assert f'nonce="{nonce}"' in body  # htmx's own script tag
    assert "<script>" not in body  # no inline script without a nonce


def test_an_htmx_request_gets_the_policy_too(reviewer: Any) -> None:
    response = client_for(reviewer).get("/health/", headers={"HX-Request": "true"})
    assert_strict_csp(response)


@pytest.mark.parametrize(("path", "status"), [("/no-such-page/", 404), ("/", 403)])
def test_error_pages_send_the_policy(path: str, status: int, outsider: Any) -> None:
    response = client_for(outsider).get(path)
    assert response.status_code == status
    assert_strict_csp(response)


def test_a_server_error_page_sends_the_policy(settings: Any) -> None:
    from django.contrib.auth.decorators import login_not_required
    from django.urls import path as url_path

    @login_not_required
    def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type(
        "urls",
        (),
        {
            "urlpatterns": [url_path("boom/", boom)],
            "handler500": "portal.views.errors.server_error",
        },
    )
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert_strict_csp(response, nonce=False)
    assert "Something went wrong" in response.content.decode()


def test_the_body_carries_the_csrf_token_for_htmx(reviewer: Any) -> None:
    body = client_for(reviewer).get("/").content.decode()
    assert 'hx-headers=\'{"x-csrftoken": "' in body


def test_messages_reach_the_page_as_an_htmx_event_after_a_partial_request(reviewer: Any) -> None:
    from django.contrib import messages
    from django.http import HttpResponse
    from django.test import RequestFactory

    from portal.middleware import HtmxMessagesMiddleware

    def view(request: Any) -> HttpResponse:
        messages.success(request, "Approved MG-2026-00001.")
        return HttpResponse(status=204)

    client = client_for(reviewer)
    client.get("/")  # a session exists
    request = RequestFactory().post("/", headers={"HX-Request": "true"})
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django_htmx.middleware import HtmxDetails

    request.session = client.session
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    request.htmx = HtmxDetails(request)  # type: ignore[attr-defined]
    response = HtmxMessagesMiddleware(view)(request)
    assert (
        '"messages": [{"level": "success", "message": "Approved MG-2026-00001."}]'
        in response["HX-Trigger"]
    )
