"""The Stripe webhook: signatures, duplicates, order, mismatches, and exactly-once effects."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.core import mail
from django.test import Client

from grants.models import (
    Application,
    EmailLog,
    Lodge,
    OutboxMessage,
    Payment,
    Status,
    WebhookEvent,
)
from ninox_backend.ninox.connection import database
from ninox_backend.ninox.mirror import sync_mirror
from portal.models import AuditEvent
from tests.factories import ApplicationFactory
from tests.grants.stripe_events import SECRET, event_body, paid_session, post


@pytest.fixture(autouse=True)
def webhook_secret(settings: Any) -> str:
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    return SECRET


@pytest.fixture
def lodge(mirrored: Any) -> Lodge:
    return Lodge.objects.filter(active=True).order_by("number").first()  # type: ignore[return-value]


# ---- refusals ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "problem", ["tampered", "wrong secret", "stale", "missing header", "garbage header", "not json"]
)
def test_a_bad_delivery_gets_400_and_writes_nothing(problem: str, lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    body = event_body("checkout.session.completed", paid_session(application))
    if problem == "tampered":
        header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
        response = post(body.replace("250", "1"), header=header)
    elif problem == "wrong secret":
        response = post(body, secret="whsec_someone_else")
    elif problem == "stale":
        response = post(body, timestamp=int(time.time()) - 301)
    elif problem == "missing header":
        response = post(body, header=None)
    elif problem == "garbage header":
        response = post(body, header="t=notanumber,v1=zz")
    else:
        response = post(
            "{not json",
            header=stripe.WebhookSignature.generate_signature_header("{not json", SECRET),
        )
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert Payment.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    application.refresh_from_db()
    assert application.status == Status.APPROVED


@pytest.mark.django_db
def test_a_delivery_inside_the_tolerance_is_accepted(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    body = event_body("checkout.session.completed", paid_session(application))
    assert post(body, timestamp=int(time.time()) - 290).status_code == 200


@pytest.mark.django_db
def test_the_webhook_needs_no_csrf_token_and_no_login(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    body = event_body("checkout.session.completed", paid_session(application))
    response = post(body, client=Client(enforce_csrf_checks=True))
    assert response.status_code == 200


# ---- one event --------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_completed_paid_session_marks_the_application_paid_in_one_transaction(
    lodge: Lodge, django_capture_on_commit_callbacks: Any
) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    body = event_body("checkout.session.completed", paid_session(application), "evt_1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(body)
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.PAID
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.PAID
    assert payment.amount == Decimal("250.00")
    assert not payment.flagged
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert kinds == {"ninox_write_back", "email_vendor", "email_finance", "email_lodge_receipt"}
    assert (
        AuditEvent.objects.filter(
            action="application.paid", object_id=application.reference
        ).count()
        == 1
    )
    # Nothing went out yet: the effects are tasks sent after the commit.
    assert len(callbacks) == 4
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_replayed_event_is_acknowledged_and_does_nothing(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    body = event_body("checkout.session.completed", paid_session(application), "evt_same")
    assert post(body).status_code == 200
    response = post(body)
    assert response.status_code == 200
    assert response.json()["result"] == "duplicate event"
    assert Payment.objects.count() == 1
    assert OutboxMessage.objects.count() == 4


@pytest.mark.django_db
def test_an_unpaid_completion_waits_for_the_async_outcome(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    session = paid_session(application, payment_status="unpaid")
    post(event_body("checkout.session.completed", session))
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Payment.objects.get().status == Payment.Status.PROCESSING
    post(event_body("checkout.session.async_payment_succeeded", paid_session(application)))
    application.refresh_from_db()
    assert application.status == Status.PAID


@pytest.mark.django_db
def test_async_success_before_completed_is_still_paid_once(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    post(event_body("checkout.session.async_payment_succeeded", paid_session(application)))
    response = post(event_body("checkout.session.completed", paid_session(application)))
    assert response.json()["result"].startswith("no change")
    application.refresh_from_db()
    assert application.status == Status.PAID
    assert Payment.objects.count() == 1
    assert OutboxMessage.objects.filter(kind="email_vendor").count() == 1


@pytest.mark.django_db
def test_transitions_only_move_forward(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    post(event_body("checkout.session.completed", paid_session(application)))
    for later in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        post(event_body(later, paid_session(application, payment_status="unpaid")))
    application.refresh_from_db()
    assert application.status == Status.PAID
    assert Payment.objects.get().status == Payment.Status.PAID


@pytest.mark.django_db
def test_an_expired_session_alone_does_not_expire_the_application(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    session = paid_session(application, payment_status="unpaid", status="expired")
    post(event_body("checkout.session.expired", session))
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Payment.objects.get().status == Payment.Status.EXPIRED
    assert OutboxMessage.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_async_payment_leaves_the_link_open(lodge: Lodge) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    post(
        event_body(
            "checkout.session.async_payment_failed",
            paid_session(application, payment_status="unpaid"),
        )
    )
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Payment.objects.get().status == Payment.Status.FAILED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount_total": 24999}, "paid $249.99, expected $250.00"),
        ({"currency": "eur"}, "paid in EUR, expected USD"),
        ({"client_reference_id": "MG-2099-99999"}, "the session names"),
        (
            {"metadata": {"application_reference": "MG-2099-99999"}, "client_reference_id": None},
            "no application has the reference",
        ),
    ],
)
def test_a_mismatch_is_not_paid_but_flagged_for_finance(
    change: dict[str, Any], reason: str, lodge: Lodge
) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    post(event_body("checkout.session.completed", paid_session(application, **change)))
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    payment = Payment.objects.get()
    assert payment.flagged
    assert reason in payment.flag_reason
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == ["email_finance"]


@pytest.mark.django_db
def test_a_second_paid_session_for_a_paid_application_is_flagged_not_counted_twice(
    lodge: Lodge,
) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    post(event_body("checkout.session.completed", paid_session(application, "cs_test_one")))
    post(event_body("checkout.session.completed", paid_session(application, "cs_test_two")))
    second = Payment.objects.get(stripe_session_id="cs_test_two")
    assert second.flagged
    assert "already paid" in second.flag_reason
    assert OutboxMessage.objects.filter(kind="ninox_write_back").count() == 1
    assert OutboxMessage.objects.filter(kind="email_finance").count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("metadata", [True, "MG-2099-99999", ["application_reference"], 7])
def test_metadata_that_is_not_an_object_is_ignored_and_the_client_reference_counts(
    metadata: Any, lodge: Lodge
) -> None:
    application = ApplicationFactory.create(approved=True, lodge=lodge)
    response = post(
        event_body("checkout.session.completed", paid_session(application, metadata=metadata))
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.PAID
    assert not Payment.objects.get().flagged


@pytest.mark.django_db
def test_other_event_types_are_acknowledged_and_ignored(lodge: Lodge) -> None:
    response = post(event_body("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert response.json()["result"] == "ignored"
    assert Payment.objects.count() == 0


# ---- many deliveries, at once -------------------------------------------------------------


@pytest.fixture
def shared_database(ninox: Any, transactional_db: Any, tmp_path: Any) -> Any:
    """A database that threads can share. SQLite's in-memory test database fails a second
    writer at once ("table is locked") instead of waiting, so on SQLite the test moves to
    a file, where writers wait for the lock as they do in production."""
    from django.core.management import call_command
    from django.db import connections

    settings_dict = connections.settings["default"]
    if settings_dict["ENGINE"] != "django.db.backends.sqlite3":
        sync_mirror(full=True)
        yield
        return
    # The in-memory connection is kept aside, never closed: closing it would drop that database.
    previous, kept = settings_dict["NAME"], connections["default"]
    settings_dict["NAME"] = str(tmp_path / "shared.sqlite3")
    connections["default"] = connections.create_connection("default")
    try:
        call_command("migrate", verbosity=0)
        sync_mirror(full=True)
        yield
    finally:
        connections["default"].close()
        settings_dict["NAME"] = previous
        connections["default"] = kept


@pytest.mark.slow
@pytest.mark.db_engine
@pytest.mark.django_db(transaction=True)
def test_a_thousand_shuffled_deliveries_with_duplicates_pay_each_session_once(
    shared_database: Any,
) -> None:
    lodges = list(Lodge.objects.filter(active=True).order_by("number")[:30])
    applications = [
        ApplicationFactory.create(approved=True, lodge=lodges[i % len(lodges)]) for i in range(300)
    ]
    rng = random.Random(8)
    deliveries: list[str] = []
    for application in applications:
        session = paid_session(application)
        # Each session: completed, and for some also async_payment_succeeded (any order).
        deliveries.append(
            event_body("checkout.session.completed", session, f"evt_c_{application.id}")
        )
        if rng.random() < 0.5:
            deliveries.append(
                event_body(
                    "checkout.session.async_payment_succeeded", session, f"evt_a_{application.id}"
                )
            )
    while len(deliveries) < 700:
        deliveries.append(
            event_body(
                "checkout.session.expired",
                paid_session(
                    applications[rng.randrange(300)], payment_status="unpaid", status="expired"
                ),
            )
        )
    assert len(deliveries) == 700
    # 300 repeats (30% of the 1,000 deliveries); 60 of them arrive at the same moment as
    # their original, from two threads.
    repeated = rng.sample(range(700), 300)
    together = [deliveries[i] for i in repeated[:60]]
    rest = [d for i, d in enumerate(deliveries) if i not in set(repeated[:60])]
    rest += [deliveries[i] for i in repeated[60:]]
    rng.shuffle(rest)
    assert len(rest) + 2 * len(together) == 1000

    errors: list[BaseException] = []

    def deliver(bodies: list[str]) -> None:
        from django.db import connections

        client = Client()
        try:
            for body in bodies:
                response = post(body, client=client)
                assert response.status_code == 200, response.content
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()  # each thread's own connection, or PostgreSQL keeps it open

    def deliver_pair(body: str) -> None:
        barrier = threading.Barrier(2)

        def one() -> None:
            barrier.wait()
            deliver([body])

        threads = [threading.Thread(target=one) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    from django.db import connections

    workers = [threading.Thread(target=deliver, args=(rest[i::4],)) for i in range(4)]
    for w in workers:
        w.start()
    for body in together:
        deliver_pair(body)
    for w in workers:
        w.join()
    connections.close_all()
    assert not errors, errors[:3]

    assert Payment.objects.filter(status=Payment.Status.PAID).count() == 300
    assert Payment.objects.filter(flagged=True).count() == 0
    assert set(Application.objects.values_list("status", flat=True)) == {Status.PAID}
    per_kind = Counter(OutboxMessage.objects.values_list("kind", flat=True))
    assert per_kind == {
        "ninox_write_back": 300,
        "email_vendor": 300,
        "email_finance": 300,
        "email_lodge_receipt": 300,
    }
    assert OutboxMessage.objects.exclude(status="done").count() == 0
    sent = Counter(EmailLog.objects.filter(status="sent").values_list("kind", flat=True))
    assert sent == {"email_vendor": 300, "email_finance": 300, "email_lodge_receipt": 300}
    assert len(mail.outbox) == 900
    grants = database().table("Grants")
    references = [r.fields.get("Reference") for r in grants.all(per_page=1000)]
    for application in applications:
        assert references.count(application.reference) == 1


@pytest.mark.django_db
def test_a_signed_body_nested_ten_thousand_deep_gets_400_with_a_message(lodge: Lodge) -> None:
    body = '{"id": "evt_1", "data": ' + "[" * 10_000 + "]" * 10_000 + "}"
    response = post(body)
    assert response.status_code == 400
    assert "levels deep" in response.json()["message"]
    assert WebhookEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_unsigned_deep_body_is_refused_for_its_signature_before_it_is_parsed(
    lodge: Lodge,
) -> None:
    body = "[" * 10_000 + "]" * 10_000
    response = post(body, secret="whsec_someone_else")
    assert response.status_code == 400
    assert response.json()["message"] == "The signature does not match, or is too old."
