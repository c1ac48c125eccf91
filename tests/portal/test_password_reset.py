"""The password-reset email (issue 16, finding 5): its link comes from PORTAL_BASE_URL, and
a portal task sends it after the request, so every address gets the same answer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from portal import tasks

pytestmark = pytest.mark.django_db

EMAIL_TEMPLATES = Path(settings.BASE_DIR, "templates", "emails")


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """The reset tasks the request queued, held back so the request is seen alone."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.password_reset_email_task, "delay", lambda *a: calls.append(a))
    return calls


def ask_reset(email: str, **extra: Any) -> Any:
    return Client().post(reverse("password_reset"), {"email": email}, **extra)


def test_the_link_comes_from_the_base_url_not_the_host_header(reviewer: Any, settings: Any) -> None:
    settings.PORTAL_BASE_URL = "https://grants.example.org"
    response = ask_reset("rita@example.org", HTTP_HOST="testserver:6666")
    assert response.status_code == 302
    [email] = mail.outbox
    html = str(getattr(email, "alternatives", [("",)])[0][0])
    links = re.findall(r"https?://[^\s\"<]+", str(email.body) + html)
    assert links
    assert all(link.startswith("https://grants.example.org/password-reset/") for link in links)
    assert "testserver" not in str(email.body)


def test_the_request_only_queues_a_task_with_the_users_id(
    reviewer: Any, queued: list[tuple[Any, ...]]
) -> None:
    ask_reset("rita@example.org")
    assert mail.outbox == []
    assert queued == [(reviewer.pk,)]
    tasks.password_reset_email_task(*queued[0])
    assert [email.to for email in mail.outbox] == [["rita@example.org"]]


def test_a_known_and_an_unknown_address_get_the_same_answer(
    reviewer: Any, queued: list[tuple[Any, ...]]
) -> None:
    known = ask_reset("rita@example.org")
    unknown = ask_reset("nobody@example.org")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # The same work in the request: one task each; the unknown one sends nothing.
    assert len(queued) == 2
    tasks.password_reset_email_task(*queued[1])
    assert mail.outbox == []


def test_a_deactivated_account_gets_no_email_from_a_queued_task(reviewer: Any) -> None:
    reviewer.is_active = False
    reviewer.save()
    tasks.password_reset_email_task(reviewer.pk)
    assert mail.outbox == []


@pytest.mark.parametrize("path", sorted(EMAIL_TEMPLATES.glob("*-body.*")), ids=lambda p: p.name)
def test_no_email_builds_a_link_from_the_request(path: Path) -> None:
    text = path.read_text()
    for request_part in ("protocol", "domain", "request.", "get_host", "build_absolute_uri"):
        assert request_part not in text
    # Every absolute link starts with a URL the portal built from PORTAL_BASE_URL.
    for link in re.findall(r"href=\"([^\"]*)\"", text):
        assert link.startswith(("{{ base_url }}", "{{ link }}")) or re.match(
            r"\{\{ \w+_url \}\}", link
        ), link
