"""An application's reads: its decisions and emails, and what the API may show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grants.models import Application, Decision, EmailLog
from grants.selectors.applications import (
    api_application,
    application_email,
    application_emails,
    latest_decision,
)
from tests.factories import ApplicationFactory, DecisionFactory

pytestmark = pytest.mark.django_db


def email(application: Application, kind: str, minutes_ago: int) -> EmailLog:
    log = EmailLog.objects.create(
        application=application, kind=kind, to="jo@example.org", subject=kind, status="sent"
    )
    EmailLog.objects.filter(pk=log.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return log


def test_the_emails_are_the_applications_own_newest_first() -> None:
    application, other = ApplicationFactory.create(), ApplicationFactory.create()
    first = email(application, "receipt", 10)
    second = email(application, "approved", 5)
    theirs = email(other, "receipt", 1)
    assert application_emails(application) == [second, first]
    assert application_email(application, first.pk) == first
    assert application_email(application, theirs.pk) is None


def test_the_api_reads_only_applications_that_came_through_the_api() -> None:
    from_api = ApplicationFactory.create(source="api")
    from_the_form = ApplicationFactory.create(source="web")
    assert api_application(from_api.reference) == from_api
    assert api_application(from_the_form.reference) is None
    assert api_application("MG-0000-00000") is None


def decision(application: Application, outcome: str, minutes_ago: int, undone: bool) -> Decision:
    made = DecisionFactory.create(
        application=application, outcome=outcome, undone_at=timezone.now() if undone else None
    )
    Decision.objects.filter(pk=made.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return made


def test_the_decision_in_force_is_the_newest_one_not_undone() -> None:
    application, other = ApplicationFactory.create(), ApplicationFactory.create()
    oldest = decision(application, "needs_review", 30, undone=False)
    in_force = decision(application, "approved", 20, undone=False)
    decision(application, "rejected", 10, undone=True)
    decision(other, "rejected", 1, undone=False)
    assert latest_decision(application) == in_force
    assert list(Decision.objects.in_force().filter(application=application)) == [in_force, oldest]
    assert latest_decision(ApplicationFactory.create()) is None
