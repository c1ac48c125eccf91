"""Writing a paid grant back to Ninox: exactly one Grants row per application."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from grants.budget import lodge_budget
from grants.models import Application, Lodge, NinoxGrant, Payment, Status
from grants.outbox import PermanentError
from grants.services.write_back import grant_write_back
from ninox_backend.connection import database
from ninox_backend.exceptions import NinoxError
from ninox_backend.mirror import sync_mirror
from tests.grants.test_webhook import approved_application

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(fresh_lodge: Lodge) -> Application:
    application = approved_application(fresh_lodge, 11)
    application.status = Status.PAID
    application.paid_at = timezone.now()
    application.save()
    Payment.objects.create(
        application=application,
        stripe_session_id="cs_test_wb",
        stripe_payment_intent_id="pi_test_wb",
        amount=application.amount_raised,
        status=Payment.Status.PAID,
        paid_at=application.paid_at,
    )
    return application


def rows_for(reference: str) -> list[Any]:
    grants = database().table("Grants")
    return [r for r in grants.all(per_page=1000) if r.fields.get("Reference") == reference]


def test_a_paid_grant_is_created_in_ninox_with_every_field(paid: Application) -> None:
    record_id = grant_write_back(application_id=paid.id)
    [row] = rows_for(paid.reference)
    assert row.id == record_id
    fields = row.fields
    assert fields["Amount"] == Decimal("200.00")  # the match, not the share
    assert fields["Lodge"] == paid.lodge.ninox_id  # type: ignore[union-attr]
    assert fields["Grant Date"] == paid.grant_date
    assert fields["Charity"] == "Food bank"
    assert fields["Purpose"] == "Winter appeal"
    assert fields["Status"] == "Paid"
    assert fields["Payment"] == "pi_test_wb"
    assert fields["Paid At"] is not None
    paid.refresh_from_db()
    assert paid.ninox_record_id == record_id
    assert paid.written_back_at is not None


def test_running_twice_updates_the_same_row(paid: Application) -> None:
    first = grant_write_back(application_id=paid.id)
    second = grant_write_back(application_id=paid.id)
    assert first == second
    assert len(rows_for(paid.reference)) == 1


def test_a_row_entered_by_hand_with_the_reference_is_updated_not_duplicated(
    paid: Application,
) -> None:
    grants = database().table("Grants")
    made = grants.create({"Reference": paid.reference, "Amount": Decimal("1.00")})
    assert grant_write_back(application_id=paid.id) == made.id
    [row] = rows_for(paid.reference)
    assert row.fields["Amount"] == Decimal("200.00")


def test_commit_then_fail_still_leaves_one_row(paid: Application, ninox: Any) -> None:
    ninox.emulator.faults = "commit_then_fail=1"
    with pytest.raises(NinoxError) as raised:
        grant_write_back(application_id=paid.id)
    assert not raised.value.permanent  # the outbox retries it
    ninox.emulator.faults = None
    grant_write_back(application_id=paid.id)
    assert len(rows_for(paid.reference)) == 1


def test_ninox_down_is_transient(paid: Application, ninox: Any) -> None:
    ninox.emulator.faults = "503=1"
    with pytest.raises(NinoxError) as raised:
        grant_write_back(application_id=paid.id)
    assert not raised.value.permanent
    ninox.emulator.faults = None
    assert rows_for(paid.reference) == []


def test_an_unpaid_application_is_a_permanent_error(fresh_lodge: Lodge) -> None:
    application = approved_application(fresh_lodge, 12)
    with pytest.raises(PermanentError):
        grant_write_back(application_id=application.id)


@pytest.mark.db_engine
def test_after_the_write_back_and_a_sync_the_budget_counts_the_grant_once(
    paid: Application,
) -> None:
    lodge = paid.lodge
    assert lodge is not None
    before = lodge_budget(lodge.id, paid.fiscal_year, Decimal("4000.00"))
    assert before.pending_portal == Decimal("200.00")
    grant_write_back(application_id=paid.id)
    sync_mirror()
    after = lodge_budget(lodge.id, paid.fiscal_year, Decimal("4000.00"))
    assert after.used == Decimal("200.00")
    assert after.used_ninox == Decimal("200.00")
    assert after.pending_portal == Decimal("0.00")
    assert NinoxGrant.objects.filter(reference=paid.reference).count() == 1
