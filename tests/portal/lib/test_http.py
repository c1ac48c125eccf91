"""``form_error_status``: the one answer to "which status for a form shown again"."""

from __future__ import annotations

from portal.lib.http import form_error_status


def test_it_answers_200_when_the_input_was_accepted() -> None:
    assert form_error_status(False) == 200


def test_it_answers_422_to_a_form_shown_again_with_its_errors() -> None:
    assert form_error_status() == 422
    assert form_error_status(True) == 422
