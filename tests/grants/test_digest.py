"""The reviewers' daily digest: at the rules' hour, once a day, skipped when there is nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from grants.models import Application, Lodge, OutboxMessage
from grants.outbox import outbox_deliver
from grants.services.emails import digest_enqueue
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def at(hour: int) -> datetime:
    today = timezone.localdate()
    return datetime(today.year, today.month, today.day, hour, 0, 30, tzinfo=CHICAGO)


@pytest.fixture
def activity(mirrored: Any, reviewer: Any) -> Any:
    lodge = Lodge.objects.order_by("number").first()
    ApplicationFactory.create(approved=True, lodge=lodge)
    ApplicationFactory.create(
        needs_review=True, lodge=lodge, reference="MG-2099-00052", review_reason="Lodge inactive"
    )
    ApplicationFactory.create(
        paid=True,
        lodge=lodge,
        reference="MG-2099-00053",
        paid_at=timezone.now() - timedelta(minutes=1),
    )
    return reviewer


def test_it_waits_for_the_digest_hour(activity: Any) -> None:
    assert digest_enqueue(now=at(6)) == "not the digest hour"
    assert OutboxMessage.objects.filter(kind="email_digest").count() == 0


def test_at_the_hour_it_sends_one_digest_to_reviewers(activity: Any, settings: Any) -> None:
    # The first 7 a.m. after the activity above, so that it lies in the day the digest covers
    # (compared with the activity's own time: the wall clock may pass 7 a.m. meanwhile).
    earliest = Application.objects.get(reference="MG-2099-00053").paid_at
    assert earliest is not None
    now = at(7) if at(7).replace(second=0) > earliest else at(7) + timedelta(days=1)
    assert digest_enqueue(now=now) == "queued"
    assert digest_enqueue(now=now + timedelta(minutes=20)) == "already queued today"
    message = OutboxMessage.objects.get(kind="email_digest")
    assert outbox_deliver(message.id) == "done"
    [email] = mail.outbox
    assert email.to == [activity.email]
    assert "waiting" in email.subject
    assert "MG-2099-00052" in email.body  # waits for review
    assert "MG-2099-00053" in email.body  # paid


def test_a_quiet_day_sends_nothing(mirrored: Any, reviewer: Any) -> None:
    assert digest_enqueue(now=at(7)) == "nothing to report"


def test_the_beat_runs_the_task_hourly() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["grants-digest"]
    assert entry["task"] == "grants.tasks.digest_task"
    assert str(entry["schedule"]).startswith("<crontab: 0 *")
