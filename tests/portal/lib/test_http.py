"""``form_error_status``: the one answer to "which status for a form shown again"."""

from __future__ import annotations

from django.http import HttpRequest
from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from portal.lib.http import form_error_status


def request(*, htmx: bool) -> HttpRequest:
    headers = {"HX-Request": "true"} if htmx else {}
    made = RequestFactory().post("/", headers=headers)
    made.htmx = HtmxDetails(made)  # type: ignore[attr-defined]
    return made


def test_it_answers_200_when_the_input_was_accepted() -> None:
    assert form_error_status(request(htmx=True), False) == 200
    assert form_error_status(request(htmx=False), False, plain_post=422) == 200


def test_it_answers_422_to_htmx_so_base_html_swaps_the_errors_in() -> None:
    assert form_error_status(request(htmx=True)) == 422
    assert form_error_status(request(htmx=True), True, plain_post=200) == 422


def test_it_answers_a_plain_post_with_200_unless_the_page_asks_for_422() -> None:
    assert form_error_status(request(htmx=False)) == 200
    assert form_error_status(request(htmx=False), plain_post=422) == 422


def test_a_request_that_skipped_the_htmx_middleware_counts_as_plain() -> None:
    assert form_error_status(RequestFactory().post("/", headers={"HX-Request": "true"})) == 200
