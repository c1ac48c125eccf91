from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from grants.models import Application, Decision, Lodge, NinoxGrant
from grants.rules import current_fiscal_year
from grants.services.submit import application_submit
from portal.lib.errors import PortalError
from tests.grants.conftest import as_cleaned, used_this_year, valid_body

pytestmark = [pytest.mark.django_db, pytest.mark.db_engine]


def submit(lodge_number: int, **overrides: Any) -> Application:
    return application_submit(
        cleaned=as_cleaned(valid_body(lodge_number, **overrides)), source="web"
    )


def add_ninox_grant(
    ninox: Any,
    lodge: Lodge,
    amount: str,
    grant_date: date,
    status: str = "Approved",
    reference: str = "",
) -> None:
    ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal(amount),
                "Grant Date": grant_date.isoformat(),
                "Status": status,
                "Reference": reference,
                "Charity": "X",
                "Purpose": "Y",
            }
        ],
    )


def test_it_approves_within_budget_and_reserves_the_amount(fresh_lodge: Lodge) -> None:
    application = submit(fresh_lodge.number, amount_requested="1250.00", amount_raised="1250.00")
    assert application.status == "approved"
    decision = Decision.objects.get(application=application)
    assert decision.remaining == Decimal("4000.00")
    assert "leaving $2,750.00" in decision.explanation
    assert used_this_year(fresh_lodge) == Decimal("1250.00")
    assert application.reference.startswith("MG-")
    assert application.payment_token


def test_it_approves_exactly_the_cap(fresh_lodge: Lodge) -> None:
    assert (
        submit(fresh_lodge.number, amount_raised="4000.00", amount_requested="4000.00").status
        == "approved"
    )


def test_it_rejects_one_cent_over_the_remaining_budget_with_the_arithmetic(
    fresh_lodge: Lodge,
) -> None:
    submit(fresh_lodge.number, amount_raised="3000.00", amount_requested="3000.00")
    application = submit(fresh_lodge.number, amount_raised="1000.01", amount_requested="1000.01")
    assert application.status == "rejected"
    fy = current_fiscal_year()
    assert application.decisions.get().explanation == (
        f"Lodge {fresh_lodge.number} has used $3,000.00 of its $4,000.00 for {fy.label} ({fy.span}); "
        "$1,000.00 remains and $1,000.01 was requested."
    )


def test_ninox_grants_on_both_sides_of_may_first(mirrored: Any, fresh_lodge: Lodge) -> None:
    fy = current_fiscal_year()
    add_ninox_grant(mirrored, fresh_lodge, "3000.00", fy.start)  # May 1: this year
    add_ninox_grant(mirrored, fresh_lodge, "900.00", fy.previous().end)  # April 30: last year
    application = submit(fresh_lodge.number, amount_raised="1001.00", amount_requested="1001.00")
    assert application.status == "rejected"
    assert "has used $3,000.00" in application.decisions.get().explanation


def test_a_cancelled_ninox_grant_does_not_count(mirrored: Any, fresh_lodge: Lodge) -> None:
    fy = current_fiscal_year()
    add_ninox_grant(mirrored, fresh_lodge, "4000.00", fy.start, status="Cancelled")
    assert submit(fresh_lodge.number, amount_requested="500.00").status == "approved"


def test_a_grant_entered_by_hand_in_ninox_counts(mirrored: Any, fresh_lodge: Lodge) -> None:
    add_ninox_grant(mirrored, fresh_lodge, "3800.00", current_fiscal_year().start)
    assert (
        submit(fresh_lodge.number, amount_raised="201.00", amount_requested="201.00").status
        == "rejected"
    )


def test_an_approval_written_back_to_ninox_counts_once(mirrored: Any, fresh_lodge: Lodge) -> None:
    first = submit(fresh_lodge.number, amount_raised="3000.00", amount_requested="3000.00")
    add_ninox_grant(
        mirrored, fresh_lodge, "3000.00", current_fiscal_year().start, reference=first.reference
    )
    second = submit(fresh_lodge.number, amount_raised="1000.00", amount_requested="1000.00")
    assert second.status == "approved"
    assert NinoxGrant.objects.filter(reference=first.reference).count() == 1
    assert second.decisions.get().used == Decimal("3000.00")


def test_a_cancelled_approval_releases_its_amount(fresh_lodge: Lodge) -> None:
    first = submit(fresh_lodge.number, amount_raised="4000.00", amount_requested="4000.00")
    Application.objects.filter(pk=first.pk).update(status="cancelled")
    assert submit(fresh_lodge.number, amount_requested="500.00").status == "approved"


def test_ninox_down_sends_the_application_to_review(mirrored: Any, fresh_lodge: Lodge) -> None:
    mirrored.emulator.faults.configure("503=1")
    application = submit(fresh_lodge.number)
    assert application.status == "needs_review"
    assert application.review_reason.startswith("Ninox unreachable")


def test_an_unknown_lodge_is_refused_and_nothing_is_stored(mirrored: Any) -> None:
    with pytest.raises(PortalError) as refused:
        submit(99998)
    assert "no lodge has number 99998" in refused.value.errors["lodge_number"][0]
    assert Application.objects.count() == 0


def test_an_inactive_lodge_goes_to_review(mirrored: Any) -> None:
    lodge = Lodge.objects.filter(active=False).first()
    assert lodge is not None
    application = submit(lodge.number, amount_requested="1.00", amount_raised="1.00")
    assert application.status in {"needs_review", "rejected"}
    if application.status == "needs_review":
        assert "inactive" in application.review_reason


def test_the_mirror_refresh_costs_one_ninox_call(mirrored: Any, fresh_lodge: Lodge) -> None:
    before = mirrored.emulator.calls
    submit(fresh_lodge.number)
    assert mirrored.emulator.calls - before == 1
