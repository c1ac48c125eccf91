"""Refunds of a paid grant: the match follows the share, the budget, Ninox and the emails follow.

From the portal (Finance, through the dev provider, which sends the signed event Stripe would)
and from Stripe's side (webhooks): full and partial, duplicated and out of order, pending and
failed, and while Ninox is down.
"""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.core import mail
from django.utils import timezone

from grants.models import Application, Lodge, OutboxMessage, Payment, Refund, Status
from grants.outbox import outbox_deliver
from grants.payments.provider import StripeProvider
from grants.rules import rules_in_force
from grants.selectors.budgets import lodge_budget, used_in_ninox
from grants.selectors.figures import fiscal_year_figures
from grants.services.refunds import match_kept_after, refund_request
from grants.services.write_back import grant_write_back
from ninox_backend.ninox.connection import database
from portal.lib.errors import PortalError
from portal.models import AuditEvent
from tests.factories import ApplicationFactory
from tests.grants.fake_stripe import FakeStripe
from tests.grants.stripe_events import SECRET, charge_refunded, event_body, post, refund

pytestmark = pytest.mark.django_db
CAP = Decimal("4000.00")
Kind = OutboxMessage.Kind


@pytest.fixture(autouse=True)
def dev_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def paid(fresh_lodge: Lodge) -> Application:
    """Share $250.00 paid, match $200.00 granted (ratio 1), already written to Ninox."""
    application = ApplicationFactory.create(
        paid=True,
        lodge=fresh_lodge,
        reference="MG-2099-00301",
        amount_raised=Decimal("250.00"),
        amount_requested=Decimal("200.00"),
        payment__stripe_session_id="cs_test_rf1",
        payment__stripe_payment_intent_id="pi_test_rf1",
    )
    grant_write_back(application_id=application.id)
    return application


@pytest.fixture
def ninox_writes(use_variant: Any) -> list[dict[str, Any]]:
    """Every write the portal sends to Ninox's Grants table (creates and updates)."""
    writes: list[dict[str, Any]] = []

    def watch(request: httpx.Request) -> None:
        path = request.url.path
        if request.method == "PUT" or (request.method == "POST" and path.endswith("/records")):
            writes.append({"method": request.method, "path": path})
        return None  # the emulator answers

    use_variant(answer=watch)
    return writes


def grant_row(reference: str) -> Any:
    [row] = [
        r
        for r in database().table("Grants").all(per_page=1000)
        if r.fields.get("Reference") == reference
    ]
    return row


def remaining(application: Application) -> Decimal:
    assert application.lodge is not None
    return lodge_budget(application.lodge.id, application.fiscal_year, CAP).remaining


def payment_of(application: Application) -> Payment:
    return Payment.objects.get(application=application)


def deliver_all() -> None:
    """Run every due outbox row, as the worker would."""
    for message in OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING):
        outbox_deliver(message.id)


def kinds_queued(application: Application) -> set[str]:
    return set(
        OutboxMessage.objects.filter(application=application)
        .exclude(kind__in=[Kind.NINOX_WRITE_BACK])
        .values_list("kind", flat=True)
    )


# ---- from the portal ------------------------------------------------------------------


def test_a_full_refund_by_finance_refunds_the_grant_and_releases_its_whole_match(
    paid: Application, finance: Any
) -> None:
    before = remaining(paid)

    made = refund_request(application=paid, actor=finance, reason="Event called off")

    assert made.amount == Decimal("250.00")
    assert made.status == Refund.Status.SUCCEEDED
    assert str(made.stripe_refund_id).startswith("re_dev_")
    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED
    assert paid.refunded_share == Decimal("250.00")
    assert paid.match_kept == Decimal("0.00")
    # The budget counts nothing of it at once, though Ninox still says Paid until the write-back.
    assert remaining(paid) - before == Decimal("200.00")
    assert grant_row(paid.reference).fields["Status"] == "Paid"
    assert kinds_queued(paid) >= {
        Kind.NINOX_REFUND,
        Kind.EMAIL_REFUND_LODGE,
        Kind.EMAIL_REFUND_VENDOR,
        Kind.EMAIL_REFUND_FINANCE,
    }

    deliver_all()

    row = grant_row(paid.reference)
    assert row.fields["Status"] == "Cancelled"
    assert row.fields["Amount"] == Decimal("200.00")  # the match granted, now cancelled
    assert remaining(paid) - before == Decimal("200.00")  # still released once, not twice
    rules = rules_in_force()
    to = {m.to[0]: m for m in mail.outbox}
    assert to[paid.contact_email].subject == (
        f"Your lodge's share for {paid.reference} has been refunded"
    )
    assert to[rules.vendor_email].subject == (
        f"Do not issue the gift for {paid.reference}: refunded"
    )
    assert to[rules.finance_email].subject == f"Refund: $250.00 of {paid.reference}'s share (full)"
    assert "Event called off" in to[rules.finance_email].body
    event = AuditEvent.objects.get(action="application.refunded", object_id=paid.reference)
    assert "the match that stays is $0.00" in event.message
    assert "$200.00 returns to" in event.message


def test_a_partial_refund_keeps_the_match_the_rest_of_the_share_still_matches(
    paid: Application, finance: Any
) -> None:
    before = remaining(paid)

    refund_request(application=paid, actor=finance, reason="Fewer tickets sold", amount="100.00")

    paid.refresh_from_db()
    assert paid.status == Status.PAID
    assert paid.refunded_share == Decimal("100.00")
    # min(match 200, (250 - 100) x 1) = 150: $50.00 returns to the budget.
    assert paid.match_kept == Decimal("150.00")
    assert remaining(paid) - before == Decimal("50.00")
    # The drift check still compares the mirror's rows as Ninox holds them.
    assert used_in_ninox(paid.lodge.id, paid.fiscal_year) == Decimal("200.00")  # type: ignore[union-attr]

    deliver_all()

    assert used_in_ninox(paid.lodge.id, paid.fiscal_year) == Decimal("150.00")  # type: ignore[union-attr]

    row = grant_row(paid.reference)
    assert row.fields["Amount"] == Decimal("150.00")
    assert row.fields["Status"] == "Paid"
    assert remaining(paid) - before == Decimal("50.00")
    [vendor] = [m for m in mail.outbox if m.to == [rules_in_force().vendor_email]]
    # The share kept ($150.00) and the match that stays ($150.00).
    assert vendor.subject == f"Gift for {paid.reference} is now $300.00 after a partial refund"
    event = AuditEvent.objects.get(action="application.partly_refunded")
    assert event.message.startswith("Stripe refunded $100.00 of the lodge's $250.00 share;")


def test_the_match_follows_the_share_by_the_ratio_in_force(
    paid: Application, settings: Any
) -> None:
    from grants.models import GrantRules

    GrantRules.objects.update(match_ratio=Decimal("0.5"))
    # (250 - 90) x 0.5 = 80, below the match of 200.
    assert match_kept_after(paid, Decimal("90.00")) == Decimal("80.00")
    # A share refunded down to nothing keeps no match; a refund never raises the match.
    assert match_kept_after(paid, Decimal("250.00")) == Decimal("0.00")
    assert match_kept_after(paid, Decimal("0.00")) == Decimal("125.00")


def test_two_partial_refunds_add_up_to_a_full_one(paid: Application, finance: Any) -> None:
    refund_request(application=paid, actor=finance, reason="Part", amount="100.00")
    refund_request(application=paid, actor=finance, reason="The rest", amount="")

    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED
    assert paid.refunded_share == Decimal("250.00")
    assert payment_of(paid).amount_refunded == Decimal("250.00")
    assert Refund.objects.filter(payment__application=paid).count() == 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("250.01", "Amount must be at most $250.00"),
        ("0", "Amount must be at least $0.01"),
        ("12.345", "at most two decimal places"),
        ("lots", "Amount must be a dollar amount"),
    ],
)
def test_it_refuses_an_amount_it_cannot_refund_naming_the_rule(
    paid: Application, finance: Any, amount: str, message: str
) -> None:
    with pytest.raises(PortalError) as refused:
        refund_request(application=paid, actor=finance, reason="Why", amount=amount)

    assert message in " ".join(refused.value.errors["amount"])
    assert not Refund.objects.exists()
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("0.00")


def test_a_reviewer_cannot_refund(paid: Application, reviewer: Any) -> None:
    with pytest.raises(PortalError, match="Finance"):
        refund_request(application=paid, actor=reviewer, reason="Why")
    assert not Refund.objects.exists()


def test_an_unpaid_application_cannot_be_refunded(fresh_lodge: Lodge, finance: Any) -> None:
    application = ApplicationFactory.create(approved=True, lodge=fresh_lodge)
    with pytest.raises(PortalError, match="Only a paid grant can be refunded"):
        refund_request(application=application, actor=finance, reason="Why")


def test_a_refund_stripe_refuses_releases_nothing_and_says_why(
    paid: Application, finance: Any
) -> None:
    from grants.payments.provider import ProviderError

    class Refusing:
        name = "stripe"

        def refund(self, **kwargs: Any) -> Any:
            raise ProviderError("Stripe refused it: Charge has already been refunded.")

    with pytest.raises(PortalError, match=r"The refund was not made\. Stripe refused it"):
        refund_request(application=paid, actor=finance, reason="Why", provider=Refusing())  # type: ignore[arg-type]

    [row] = Refund.objects.all()
    assert row.status == Refund.Status.FAILED
    paid.refresh_from_db()
    assert paid.status == Status.PAID
    assert paid.refunded_share == Decimal("0.00")


# ---- from Stripe's side ---------------------------------------------------------------


def send(event_type: str, obj: dict[str, Any], *, created: int, event_id: str | None = None) -> Any:
    response = post(event_body(event_type, obj, event_id=event_id, created=created))
    assert response.status_code == 200, response.content
    return response.json()["result"]


def test_a_refund_made_in_stripes_dashboard_has_the_same_effects(paid: Application) -> None:
    before = remaining(paid)
    payment = payment_of(paid)

    result = send("charge.refunded", charge_refunded(payment, "250.00"), created=int(time.time()))

    assert result == "refunded"
    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED
    assert remaining(paid) - before == Decimal("200.00")
    assert kinds_queued(paid) >= {Kind.NINOX_REFUND, Kind.EMAIL_REFUND_LODGE}
    event = AuditEvent.objects.get(action="application.refunded")
    assert event.actor_name == "stripe webhook"
    deliver_all()
    assert grant_row(paid.reference).fields["Status"] == "Cancelled"


@pytest.mark.parametrize(
    "delivery",
    [
        {"secret": "whsec_someone_else_" + "b" * 16},
        {"timestamp": int(time.time()) - 301},  # older than the tolerance: a replay
        {"header": None},
    ],
    ids=["another secret", "stale signature", "no signature"],
)
def test_a_refund_event_badly_signed_is_refused_and_changes_nothing(
    paid: Application, delivery: dict[str, Any]
) -> None:
    body = event_body("charge.refunded", charge_refunded(payment_of(paid), "250.00"))

    assert post(body, **delivery).status_code == 400

    paid.refresh_from_db()
    assert (paid.status, paid.refunded_share) == (Status.PAID, Decimal("0.00"))
    assert payment_of(paid).amount_refunded == Decimal("0.00")
    assert not OutboxMessage.objects.filter(kind=Kind.NINOX_REFUND).exists()


def test_a_replayed_refund_event_is_acknowledged_and_changes_nothing_twice(
    paid: Application,
) -> None:
    body = event_body(
        "refund.updated",
        refund(payment_of(paid), "re_test_replay", "250.00", "succeeded"),
        event_id="evt_test_replayed",
        created=int(time.time()),
    )
    send("charge.refunded", charge_refunded(payment_of(paid), "250.00"), created=int(time.time()))

    assert post(body).json()["result"] == "no change"
    assert post(body).json()["result"] == "duplicate event"
    assert OutboxMessage.objects.filter(kind=Kind.NINOX_REFUND).count() == 1


def test_duplicated_and_out_of_order_charge_events_update_ninox_once_each(
    paid: Application, ninox_writes: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    payment = payment_of(paid)
    now = int(time.time())
    first = event_body("charge.refunded", charge_refunded(payment, "100.00"), created=now - 60)
    second = event_body("charge.refunded", charge_refunded(payment, "150.00"), created=now - 30)

    with django_capture_on_commit_callbacks(execute=True):
        post(first)
        post(first)  # the same delivery again
    assert len(ninox_writes) == 1
    assert grant_row(paid.reference).fields["Amount"] == Decimal("150.00")

    with django_capture_on_commit_callbacks(execute=True):
        post(second)
        # The same state under another event id, and the older state arriving late.
        send("charge.refunded", charge_refunded(payment, "150.00"), created=now - 30)
        assert (
            send("charge.refunded", charge_refunded(payment, "100.00"), created=now - 60)
            == "no change: a newer state of the charge was applied already"
        )
    assert len(ninox_writes) == 2
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("150.00")
    assert paid.match_kept == Decimal("100.00")
    assert grant_row(paid.reference).fields["Amount"] == Decimal("100.00")
    assert OutboxMessage.objects.filter(kind=Kind.EMAIL_REFUND_LODGE).count() == 2


def test_a_late_older_event_never_takes_back_a_full_refund(paid: Application) -> None:
    payment = payment_of(paid)
    now = int(time.time())
    send("charge.refunded", charge_refunded(payment, "250.00"), created=now)
    assert (
        send("charge.refunded", charge_refunded(payment, "100.00"), created=now - 5)
        == "no change: a newer state of the charge was applied already"
    )
    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED
    assert paid.refunded_share == Decimal("250.00")


def test_a_pending_refund_releases_nothing_until_it_succeeds(paid: Application) -> None:
    payment = payment_of(paid)
    before = remaining(paid)
    now = int(time.time())

    send(
        "refund.created",
        refund(payment, "re_test_p", "100.00", "pending", created=now - 20),
        created=now - 20,
    )
    assert (
        send("charge.refunded", charge_refunded(payment, "100.00"), created=now - 19) == "no change"
    )
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("0.00")
    assert remaining(paid) == before
    assert not OutboxMessage.objects.filter(kind=Kind.NINOX_REFUND).exists()

    assert (
        send(
            "refund.updated",
            refund(payment, "re_test_p", "100.00", "succeeded", created=now - 20),
            created=now,
        )
        == "partly refunded"
    )
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("100.00")
    assert remaining(paid) - before == Decimal("50.00")
    # A late "pending" after "succeeded" changes nothing.
    send(
        "refund.updated",
        refund(payment, "re_test_p", "100.00", "pending", created=now - 20),
        created=now - 20,
    )
    assert Refund.objects.get(stripe_refund_id="re_test_p").status == Refund.Status.SUCCEEDED


def test_a_failed_refund_releases_nothing(paid: Application) -> None:
    payment = payment_of(paid)
    before = remaining(paid)
    now = int(time.time())

    send(
        "refund.created",
        refund(payment, "re_test_f", "250.00", "pending", created=now - 20),
        created=now - 20,
    )
    send("charge.refunded", charge_refunded(payment, "250.00"), created=now - 19)
    assert (
        send(
            "refund.failed",
            refund(payment, "re_test_f", "250.00", "failed", created=now - 20),
            created=now - 10,
        )
        == "no change"
    )
    # Stripe's own later view of the charge agrees: nothing refunded.
    send(
        "charge.refund.updated",
        refund(payment, "re_test_f", "250.00", "failed", created=now - 20),
        created=now,
    )

    paid.refresh_from_db()
    assert paid.status == Status.PAID
    assert paid.refunded_share == Decimal("0.00")
    assert remaining(paid) == before
    assert payment_of(paid).amount_refunded == Decimal("0.00")
    assert not OutboxMessage.objects.filter(kind=Kind.NINOX_REFUND).exists()


def test_a_refund_stripe_takes_back_counts_the_match_again_at_once_and_ninox_follows(
    paid: Application, ninox_writes: list[dict[str, Any]], django_capture_on_commit_callbacks: Any
) -> None:
    """A refund that succeeded and then failed: the release it made is undone at once (the cap
    is never exceeded by money Stripe did not give back), Ninox is written back once, finance
    is told; a later refund is again one Ninox update."""
    payment = payment_of(paid)
    before = remaining(paid)
    now = int(time.time())
    made = refund(payment, "re_test_back", "250.00", "succeeded", created=now - 60)
    with django_capture_on_commit_callbacks(execute=True):
        send("refund.created", made, created=now - 60)
        assert send("charge.refunded", charge_refunded(payment, "250.00"), created=now - 59) == (
            "refunded"
        )
    assert grant_row(paid.reference).fields["Status"] == "Cancelled"
    assert remaining(paid) - before == Decimal("200.00")
    writes = len(ninox_writes)
    mail.outbox.clear()

    failed = refund(payment, "re_test_back", "250.00", "failed", created=now - 60)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = send("refund.failed", failed, created=now - 30)
        assert result.startswith("taken back"), result
        paid.refresh_from_db()
        assert paid.status == Status.PAID
        assert paid.refunded_share == Decimal("0.00")
        assert paid.match_kept == Decimal("200.00")
        # At once: Ninox still says Cancelled, and the budget counts the match again.
        assert grant_row(paid.reference).fields["Status"] == "Cancelled"
        assert remaining(paid) == before
        send("refund.failed", failed, created=now - 30)  # the same news again
        send("charge.refunded", charge_refunded(payment, "0.00"), created=now - 29)
    assert len(callbacks) >= 1
    assert len(ninox_writes) == writes + 1
    row = grant_row(paid.reference)
    assert (row.fields["Status"], row.fields["Amount"]) == ("Paid", Decimal("200.00"))
    assert remaining(paid) == before
    assert not Payment.objects.get(id=payment.id).flagged  # later refunds still count
    [to_finance] = [m for m in mail.outbox if m.to == [rules_in_force().finance_email]]
    assert "taken back" in to_finance.subject
    assert "counts against the budget again" in to_finance.body
    event = AuditEvent.objects.get(action="application.refund_taken_back")
    assert "$200.00 of the match counts against" in event.message

    # Finance refunds again: the same cumulative figure as before is news again, written once.
    again = refund(payment, "re_test_again", "250.00", "succeeded", created=now - 5)
    with django_capture_on_commit_callbacks(execute=True):
        send("refund.created", again, created=now - 5)
        assert send("charge.refunded", charge_refunded(payment, "250.00"), created=now - 4) == (
            "refunded"
        )
    assert len(ninox_writes) == writes + 2
    assert grant_row(paid.reference).fields["Status"] == "Cancelled"
    assert remaining(paid) - before == Decimal("200.00")


def test_a_partial_refund_taken_back_counts_the_whole_match_before_ninox_hears(
    paid: Application, ninox: Any
) -> None:
    payment = payment_of(paid)
    before = remaining(paid)
    now = int(time.time())
    send(
        "refund.created",
        refund(payment, "re_test_pb", "100.00", "succeeded", created=now - 60),
        created=now - 60,
    )
    send("charge.refunded", charge_refunded(payment, "100.00"), created=now - 59)
    deliver_all()
    assert grant_row(paid.reference).fields["Amount"] == Decimal("150.00")
    assert remaining(paid) - before == Decimal("50.00")

    ninox.emulator.faults = "503=1"  # Ninox down: the budget must not wait for it
    send(
        "refund.failed",
        refund(payment, "re_test_pb", "100.00", "failed", created=now - 60),
        created=now - 30,
    )
    assert remaining(paid) == before
    ninox.emulator.faults = None
    assert grant_row(paid.reference).fields["Amount"] == Decimal("150.00")
    for message in OutboxMessage.objects.filter(
        kind=Kind.NINOX_REFUND, status=OutboxMessage.Status.PENDING
    ):
        assert outbox_deliver(message.id, now=timezone.now() + timedelta(hours=1)) == "done"
    assert grant_row(paid.reference).fields["Amount"] == Decimal("200.00")
    assert remaining(paid) == before


def test_a_refunds_failure_already_in_a_newer_charge_state_is_not_taken_off_twice(
    paid: Application,
) -> None:
    payment = payment_of(paid)
    now = int(time.time())
    for refund_id, amount in (("re_test_one", "100.00"), ("re_test_two", "50.00")):
        made = refund(payment, refund_id, amount, "succeeded", created=now - 90)
        send("refund.created", made, created=now - 90)
    send("charge.refunded", charge_refunded(payment, "150.00"), created=now - 80)
    # The first one fails: Stripe's newer view of the charge comes first, the failure after.
    send("charge.refunded", charge_refunded(payment, "50.00"), created=now - 10)
    late = refund(payment, "re_test_one", "100.00", "failed", created=now - 90)
    assert send("refund.failed", late, created=now - 30) == "no change"

    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("50.00")
    assert payment_of(paid).amount_refunded == Decimal("50.00")
    # An older charge state arriving now still changes nothing.
    assert send("charge.refunded", charge_refunded(payment, "150.00"), created=now - 20) == (
        "no change: a newer state of the charge was applied already"
    )


def test_the_lodges_figures_agree_with_its_budget_while_a_taken_back_refund_waits_for_ninox(
    paid: Application, ninox: Any
) -> None:
    assert paid.lodge is not None
    lodge_id, fy = paid.lodge.id, paid.fiscal_year

    def agree() -> Decimal:
        figures = fiscal_year_figures(fy, CAP, lodge_id=lodge_id)
        assert figures.remaining == lodge_budget(lodge_id, fy, CAP).remaining
        return figures.approved

    payment = payment_of(paid)
    now = int(time.time())
    approved = agree()
    send(
        "refund.created",
        refund(payment, "re_test_fig", "250.00", "succeeded", created=now - 60),
        created=now - 60,
    )
    send("charge.refunded", charge_refunded(payment, "250.00"), created=now - 59)
    deliver_all()
    assert grant_row(paid.reference).fields["Status"] == "Cancelled"
    assert agree() == approved - Decimal("200.00")

    ninox.emulator.faults = "503=1"
    send(
        "refund.failed",
        refund(payment, "re_test_fig", "250.00", "failed", created=now - 60),
        created=now - 30,
    )
    assert agree() == approved  # Ninox still says Cancelled


def test_a_refund_event_for_no_payment_we_know_is_recorded_and_ignored(paid: Application) -> None:
    stranger = {
        "id": "ch_unknown",
        "object": "charge",
        "amount": 999,
        "amount_refunded": 999,
        "payment_intent": "pi_unknown",
        "metadata": {},
    }
    assert (
        send("charge.refunded", stranger, created=int(time.time()))
        == "ignored: no paid payment has this charge"
    )
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("0.00")


# ---- Ninox down -------------------------------------------------------------------------


def test_a_refund_while_ninox_is_down_is_written_when_it_returns(
    paid: Application, finance: Any, ninox: Any
) -> None:
    ninox.emulator.faults = "503=1"
    refund_request(application=paid, actor=finance, reason="Called off")

    message = OutboxMessage.objects.get(kind=Kind.NINOX_REFUND)
    assert outbox_deliver(message.id) == "retry"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.PENDING
    assert "503" in message.last_error
    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED  # the budget does not wait for Ninox

    ninox.emulator.faults = None
    assert grant_row(paid.reference).fields["Status"] == "Paid"
    assert outbox_deliver(message.id, now=timezone.now() + timedelta(hours=1)) == "done"

    assert grant_row(paid.reference).fields["Status"] == "Cancelled"


# ---- Stripe's SDK -----------------------------------------------------------------------


def test_the_stripe_provider_refunds_by_payment_intent_with_an_idempotency_key(
    paid: Application, finance: Any
) -> None:
    fake = FakeStripe()
    made = refund_request(
        application=paid,
        actor=finance,
        reason="Called off",
        amount="100.00",
        provider=StripeProvider("sk_test_fake", http_client=fake, max_network_retries=0),
    )

    [call] = fake.calls
    assert call["url"].endswith("/v1/refunds")
    assert call["form"]["payment_intent"] == "pi_test_rf1"
    assert call["form"]["amount"] == "10000"
    assert call["form"]["metadata[application_reference]"] == paid.reference
    assert call["form"]["expand[0]"] == "charge"
    assert call["headers"]["Idempotency-Key"] == f"grants-refund-{paid.reference}-{made.id}"
    assert made.stripe_refund_id == "re_fake1"
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("100.00")
    assert payment_of(paid).stripe_charge_id == "ch_fake"


def test_stripe_not_answering_leaves_the_request_open_until_its_events_settle_it(
    paid: Application, finance: Any
) -> None:
    fake = FakeStripe(fail_with=500)
    provider = StripeProvider("sk_test_fake", http_client=fake, max_network_retries=0)

    with pytest.raises(PortalError, match="may or may not have been made"):
        refund_request(application=paid, actor=finance, reason="Why", provider=provider)
    [row] = Refund.objects.all()
    assert row.status == Refund.Status.REQUESTING
    # A second click is refused rather than refunding twice.
    with pytest.raises(PortalError, match="being requested already"):
        refund_request(application=paid, actor=finance, reason="Why", provider=provider)

    # Stripe had made it: its events name the portal's request in the metadata.
    payment = payment_of(paid)
    now = int(time.time())
    made = refund(
        payment,
        "re_test_late",
        "250.00",
        "succeeded",
        created=now,
        metadata={"portal_refund": str(row.id)},
    )
    send("refund.created", made, created=now)
    assert send("charge.refunded", charge_refunded(payment, "250.00"), created=now) == "refunded"
    row.refresh_from_db()
    assert row.stripe_refund_id == "re_test_late"
    assert row.status == Refund.Status.SUCCEEDED
    assert Refund.objects.count() == 1
