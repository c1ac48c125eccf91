"""``form_error_status``: the one answer to "which status for a form shown again";
``results_or_page``: the one answer to "the whole page, or only its results"."""

from __future__ import annotations

from typing import cast

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from portal.lib.http import HtmxHttpRequest, form_error_status, results_or_page


def test_it_answers_200_when_the_input_was_accepted() -> None:
    assert form_error_status(False) == 200


def test_it_answers_422_to_a_form_shown_again_with_its_errors() -> None:
    assert form_error_status() == 422
    assert form_error_status(True) == 422


def request_with(**headers: str) -> HtmxHttpRequest:
    request = cast(HtmxHttpRequest, RequestFactory().get("/queue/", headers=headers))
    request.htmx = HtmxDetails(request)
    return request


def test_htmx_asking_for_the_results_region_gets_the_results_partial() -> None:
    asked = request_with(**{"HX-Request": "true", "HX-Target": "results"})
    assert results_or_page(asked, "grants/queue.html") == "grants/queue.html#results"


def test_a_browser_or_htmx_aiming_elsewhere_gets_the_whole_page() -> None:
    assert results_or_page(request_with(), "grants/queue.html") == "grants/queue.html"
    elsewhere = request_with(**{"HX-Request": "true", "HX-Target": "queue-counters"})
    assert results_or_page(elsewhere, "grants/queue.html") == "grants/queue.html"
