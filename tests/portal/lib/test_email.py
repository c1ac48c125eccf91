"""Every email is signed with the foundation's name and its contact address: ``build_email``,
through which every email is built, appends ``emails/signature.*`` to both bodies."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from portal.lib.email import build_email, contact_email


def _user() -> SimpleNamespace:
    return SimpleNamespace(first_name="Ann", get_username=lambda: "ann")


def test_an_email_is_signed_with_the_foundations_name_and_contact(settings: Any) -> None:
    settings.FOUNDATION_NAME = "Prairie Masonic Foundation"
    settings.DEFAULT_FROM_EMAIL = "Grants <grants@prairie.example>"
    message = build_email("two-factor-device-added", {"user": _user()}, ["ann@example.org"])
    assert message.body.startswith("Hello Ann,")
    assert message.body.endswith(
        "\n\n-- \nPrairie Masonic Foundation\nQuestions? Write to grants@prairie.example.\n"
    )
    html = str(message.alternatives[0][0])
    assert "Prairie Masonic Foundation" in html
    assert 'href="mailto:grants@prairie.example"' in html


def test_the_signature_escapes_the_name_in_html_but_not_in_text(settings: Any) -> None:
    settings.FOUNDATION_NAME = "Smith & Sons <Foundation>"
    message = build_email("two-factor-device-added", {"user": _user()}, ["ann@example.org"])
    assert "Smith & Sons <Foundation>" in message.body
    assert "Smith &amp; Sons &lt;Foundation&gt;" in str(message.alternatives[0][0])


def test_the_contact_address_is_the_senders_address(settings: Any) -> None:
    settings.DEFAULT_FROM_EMAIL = "Grants portal <help@foundation.example>"
    assert contact_email() == "help@foundation.example"
