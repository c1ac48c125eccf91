from __future__ import annotations

from typing import Any

import pytest

from grants.models import Application, EmailLog, Lodge, OutboxMessage
from grants.services.submit import application_submit
from tests.conftest import client_for
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(
    fresh_lodge: Lodge, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> Application:
    """An application approved at once, its decision email sent."""
    with django_capture_on_commit_callbacks(execute=True):
        return application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web")


def test_the_application_page_lists_its_emails_on_the_timeline(
    application: Application, reviewer: Any
) -> None:
    assert EmailLog.objects.filter(application=application, status="sent").count() == 1
    page = client_for(reviewer).get(f"/applications/{application.reference}/").content.decode()
    assert f"Decision email to the lodge sent to {application.contact_email}" in page
    assert "Resend" in page


def test_a_reviewer_resends_an_email_and_the_payment_link(
    application: Application,
    reviewer: Any,
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    email = EmailLog.objects.get(application=application)
    client = client_for(reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/applications/{application.reference}/emails/{email.id}/resend/",
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 204
    assert "applicationChanged" in response["HX-Trigger"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/applications/{application.reference}/resend-link/")
    kinds = list(
        OutboxMessage.objects.filter(application=application).values_list("kind", flat=True)
    )
    assert kinds.count("email_decision") == 2
    assert "email_payment_link" in kinds
    assert len(mailoutbox) == 3
    assert any("/pay/" in message.body for message in mailoutbox[1:])


def test_finance_cannot_resend(application: Application, finance: Any) -> None:
    response = client_for(finance).post(f"/applications/{application.reference}/resend-link/")
    assert response.status_code == 403
