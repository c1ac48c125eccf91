"""The test factories put rows in the states their traits name."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.models import Payment, Status
from portal import roles
from tests.factories import (
    PASSWORD,
    ApplicationFactory,
    NinoxGrantFactory,
    PaymentFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_an_application_is_submitted_and_undecided_by_default() -> None:
    application = ApplicationFactory.create()
    assert application.lodge is not None
    assert application.status == Status.SUBMITTED
    assert application.lodge_number == application.lodge.number
    assert (application.decided_at, application.payment_token, application.paid_at) == (
        None,
        None,
        None,
    )


def test_an_approved_application_has_an_open_payment_link_and_no_payment() -> None:
    application = ApplicationFactory.create(approved=True)
    assert application.status == Status.APPROVED
    assert application.grant_date is not None
    assert application.payment_token
    assert application.payment_expires_at is not None
    assert application.decided_at is not None
    assert application.payment_expires_at > application.decided_at
    assert not application.payments.exists()


def test_a_paid_application_comes_with_its_paid_payment_of_the_lodge_share() -> None:
    application = ApplicationFactory.create(paid=True, amount_raised=Decimal("123.45"))
    [payment] = application.payments.all()
    assert application.status == Status.PAID
    assert (payment.status, payment.amount) == (Payment.Status.PAID, Decimal("123.45"))
    assert payment.stripe_session_id == f"cs_test_{application.reference}"
    assert payment.stripe_payment_intent_id == f"pi_test_{application.reference}"
    assert payment.paid_at == application.paid_at


def test_a_paid_application_can_be_made_without_a_payment_row() -> None:
    assert not ApplicationFactory.create(paid=True, payment=None).payments.exists()


def test_review_and_rejection_traits_set_their_status() -> None:
    review = ApplicationFactory.create(needs_review=True)
    rejected = ApplicationFactory.create(rejected=True)
    assert (review.status, bool(review.review_reason), review.decided_at) == (
        Status.NEEDS_REVIEW,
        True,
        None,
    )
    assert rejected.status == Status.REJECTED
    assert rejected.decided_at is not None
    assert rejected.payment_token is None


def test_an_orphan_payment_is_flagged_for_finance() -> None:
    payment = PaymentFactory.create(orphan=True)
    assert payment.application is None
    assert payment.flagged


def test_a_ninox_grant_entered_by_hand_has_no_reference_and_names_its_lodge() -> None:
    grant = NinoxGrantFactory.create()
    assert grant.lodge is not None
    assert grant.reference == ""
    assert grant.lodge_ninox_id == grant.lodge.ninox_id
    assert grant.counts


def test_a_user_signs_in_with_the_shared_password_and_has_the_named_roles() -> None:
    user = UserFactory.create(username="rita", roles=[roles.REVIEWER])
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [roles.REVIEWER]
