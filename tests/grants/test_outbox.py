"""The outbox: enqueued after commit, claimed once, retried with backoff, swept when lost."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from grants import outbox
from grants.models import OutboxMessage
from grants.tasks import outbox_sweep_task
from ninox_backend.exceptions import NinoxServerError, NinoxValidationError
from tests.factories import ApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(mirrored: Any) -> Any:
    from grants.models import Lodge

    lodge = Lodge.objects.order_by("number").first()
    return ApplicationFactory.create(paid=True, payment=None, lodge=lodge)


def enqueue(application: Any, kind: str = "email_lodge_receipt") -> OutboxMessage:
    message = outbox.outbox_enqueue(
        kind=kind,
        dedupe_key=f"{kind}:{application.reference}",
        application=application,
        payload={"application_id": application.id},
    )
    assert message is not None
    return message


def test_the_task_is_sent_only_after_the_commit(
    application: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = enqueue(application)
        assert mail.outbox == []  # nothing before the commit
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == "done"
    assert message.attempts == 1
    assert len(mail.outbox) == 1


def test_the_same_effect_is_enqueued_once(application: Any) -> None:
    enqueue(application)
    again = outbox.outbox_enqueue(
        kind="email_lodge_receipt",
        dedupe_key=f"email_lodge_receipt:{application.reference}",
        application=application,
        payload={"application_id": application.id},
    )
    assert again is None
    assert OutboxMessage.objects.count() == 1


def test_a_row_is_carried_out_once_however_often_its_task_runs(application: Any) -> None:
    message = enqueue(application)
    assert outbox.outbox_deliver(message.id) == "done"
    assert outbox.outbox_deliver(message.id) == "not due or taken"
    assert len(mail.outbox) == 1


def test_a_row_another_worker_holds_is_left_alone(application: Any) -> None:
    message = enqueue(application)
    OutboxMessage.objects.filter(id=message.id).update(status="sending", claimed_at=timezone.now())
    assert outbox.outbox_deliver(message.id) == "not due or taken"
    assert mail.outbox == []


def test_a_transient_error_retries_later_with_growing_bounded_delays(application: Any) -> None:
    message = enqueue(application, "ninox_write_back")
    error = NinoxServerError("busy", status=503)
    with mock.patch("grants.services.write_back.grant_write_back", side_effect=error):
        assert outbox.outbox_deliver(message.id) == "retry"
    message.refresh_from_db()
    assert message.status == "pending"
    assert message.attempts == 1
    assert "503" in message.last_error
    assert message.next_attempt_at > timezone.now()
    delays = [outbox.backoff(n) for n in range(1, outbox.MAX_ATTEMPTS + 1)]
    assert all(b >= a * 0.8 for a, b in itertools.pairwise(delays))
    assert max(delays) <= outbox.MAX_DELAY
    # Every retry of a row fits well inside the broker's visibility timeout.
    from django.conf import settings

    longest = sum(
        min(outbox.MAX_DELAY, outbox.BASE_DELAY * 2 ** (n - 1))
        for n in range(1, outbox.MAX_ATTEMPTS)
    )
    assert longest < settings.CELERY_VISIBILITY_TIMEOUT / 4
    assert outbox.STUCK_AFTER.total_seconds() < settings.CELERY_VISIBILITY_TIMEOUT


def test_a_permanent_error_fails_at_once(application: Any) -> None:
    message = enqueue(application, "ninox_write_back")
    error = NinoxValidationError("no such field", status=422)
    with mock.patch("grants.services.write_back.grant_write_back", side_effect=error):
        assert outbox.outbox_deliver(message.id) == "failed"
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.attempts == 1


def test_transient_errors_fail_after_the_last_attempt(application: Any) -> None:
    message = enqueue(application, "ninox_write_back")
    error = NinoxServerError("busy", status=503)
    with mock.patch("grants.services.write_back.grant_write_back", side_effect=error):
        for _ in range(outbox.MAX_ATTEMPTS):
            OutboxMessage.objects.filter(id=message.id).update(next_attempt_at=timezone.now())
            result = outbox.outbox_deliver(message.id)
    assert result == "failed"
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.attempts == outbox.MAX_ATTEMPTS


def test_the_sweeper_revives_a_row_whose_worker_died(application: Any) -> None:
    message = enqueue(application)
    long_ago = timezone.now() - outbox.STUCK_AFTER - timedelta(seconds=1)
    OutboxMessage.objects.filter(id=message.id).update(
        status="sending", claimed_at=long_ago, attempts=1
    )
    assert outbox_sweep_task.delay().get() == 1
    message.refresh_from_db()
    assert message.status == "done"
    assert message.attempts == 2
    assert len(mail.outbox) == 1


def test_the_sweeper_leaves_a_recent_claim_alone(application: Any) -> None:
    message = enqueue(application)
    OutboxMessage.objects.filter(id=message.id).update(status="sending", claimed_at=timezone.now())
    assert outbox.outbox_sweep() == 0
    message.refresh_from_db()
    assert message.status == "sending"


def test_the_sweeper_sends_a_lost_pending_row(application: Any) -> None:
    message = enqueue(application)  # its task was never sent: no commit in this test
    OutboxMessage.objects.filter(id=message.id).update(
        next_attempt_at=timezone.now() - outbox.LOST_AFTER - timedelta(seconds=1)
    )
    assert outbox.outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == "done"


def test_a_broker_outage_leaves_the_row_for_the_sweeper(
    application: Any,
) -> None:
    from grants.tasks import outbox_deliver_task

    message = enqueue(application)
    conf = outbox_deliver_task.app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    try:
        with mock.patch.object(
            outbox_deliver_task, "apply_async", side_effect=ConnectionError("down")
        ):
            outbox.dispatch(message.id)  # logged, not raised
    finally:
        conf.task_always_eager = eager
    message.refresh_from_db()
    assert message.status == "pending"
