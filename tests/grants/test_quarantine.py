"""The quarantine: Ninox values the budget rests on that could not be read send decisions to a person."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from grants.models import Lodge, NinoxGrant, NinoxQuarantine, Status
from grants.quarantine import quarantine_doubts
from grants.rules import current_fiscal_year
from grants.services.submit import application_submit
from grants.sync_handlers import GrantHandler
from ninox_backend.types import Record, dumps
from tests.conftest import client_for
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = [pytest.mark.django_db, pytest.mark.db_engine]


def submit(lodge_number: int, amount: str) -> Any:
    body = valid_body(lodge_number, amount_raised=amount, amount_requested=amount)
    return application_submit(cleaned=as_cleaned(body), source="web")


def paid_grant_in_ninox(ninox: Any, lodge: Lodge) -> int:
    """A $3,900 grant of ``lodge``'s $4,000 this fiscal year, entered in Ninox; its record id."""
    [grant_id] = ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("3900.00"),
                "Grant Date": current_fiscal_year().start.isoformat(),
                "Status": "Paid",
            }
        ],
    )
    return grant_id


def bad_grant(lodge: Lodge | None, ninox_id: int = 90001, **fields: Any) -> Record:
    values: dict[str, Any] = {
        "Lodge": lodge.ninox_id if lodge else None,
        "Amount": Decimal("3900.00"),
        "Grant Date": current_fiscal_year().start,
        "Status": "Paid",
    }
    values.update(fields)
    return Record(
        id=ninox_id, sequence=1, fields={k: v for k, v in values.items() if v is not None}
    )


@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs"])
def test_a_grant_by_hand_whose_lodge_link_arrives_as_a_caption_is_not_counted_as_zero(
    mirrored: Any, fresh_lodge: Lodge, use_variant: Any, ninox_dialect: str
) -> None:
    # Entered by hand in Ninox: $3,900 of the lodge's $4,000 this fiscal year.
    grant_id = paid_grant_in_ninox(mirrored, fresh_lodge)

    def link_as_caption(record: dict[str, Any]) -> None:
        if record.get("id") == grant_id:
            record["fields"]["Lodge"] = fresh_lodge.name

    use_variant(reshape=link_as_caption)
    application = submit(fresh_lodge.number, "500.00")  # $400 over what truly remains
    assert application.status == Status.NEEDS_REVIEW
    assert f"Ninox Grants record {grant_id}: Lodge is text" in application.review_reason
    row = NinoxQuarantine.objects.get(ninox_id=grant_id)
    assert row.raw_value == dumps(fresh_lodge.name)
    assert row.lodge_ninox_id is None


def test_every_lodge_is_in_doubt_while_a_grants_lodge_cannot_be_read(mirrored: Any) -> None:
    lodges = list(Lodge.objects.filter(active=True)[:2])
    GrantHandler().upsert([bad_grant(None, Lodge="Kilwinning")])
    for lodge in lodges:
        [reason] = quarantine_doubts(lodge.id)
        assert "could belong to any lodge" in reason
        assert "Kilwinning" not in reason  # the value stays on staff pages, never in a decision


def test_a_grant_with_a_readable_lodge_casts_doubt_on_that_lodge_only(
    mirrored: Any, fresh_lodge: Lodge
) -> None:
    GrantHandler().upsert([bad_grant(fresh_lodge, Amount="3,900")])
    other = Lodge.objects.exclude(id=fresh_lodge.id).first()
    assert other is not None
    assert quarantine_doubts(other.id) == []
    [reason] = quarantine_doubts(fresh_lodge.id)
    assert reason == "Ninox Grants record 90001: Amount is text, not an amount"


def test_many_quarantined_values_are_named_then_counted(mirrored: Any, fresh_lodge: Lodge) -> None:
    GrantHandler().upsert(
        [bad_grant(fresh_lodge, ninox_id=90001 + n, Amount="x") for n in range(5)]
    )
    reasons = quarantine_doubts(fresh_lodge.id)
    assert len(reasons) == 4
    assert reasons[-1] == "2 more Ninox value(s) could not be read"


def test_an_application_of_a_lodge_in_doubt_is_neither_approved_nor_rejected(
    mirrored: Any, fresh_lodge: Lodge
) -> None:
    date_as_number: dict[str, Any] = {"Grant Date": Decimal("1780272000000")}
    GrantHandler().upsert([bad_grant(fresh_lodge, **date_as_number)])
    small = submit(fresh_lodge.number, "10.00")
    large = submit(fresh_lodge.number, "4000.00")
    assert small.status == large.status == Status.NEEDS_REVIEW
    assert "Grant Date is a number, not a date" in small.review_reason


def test_an_empty_active_sends_the_application_to_review_saying_so(
    mirrored: Any, fresh_lodge: Lodge
) -> None:
    Lodge.objects.filter(id=fresh_lodge.id).update(
        active=False, inactive_reason="Active is empty in Ninox"
    )
    application = submit(fresh_lodge.number, "10.00")
    # The refresh reads Grants only (the lodge is known), so the mirrored lodge stands.
    assert application.status == Status.NEEDS_REVIEW
    assert (
        f"Lodge {fresh_lodge.number} counts as inactive: Active is empty in Ninox"
        in application.review_reason
    )


def test_once_ninox_reads_cleanly_again_the_lodge_is_decided_as_usual(
    mirrored: Any, fresh_lodge: Lodge
) -> None:
    GrantHandler().upsert([bad_grant(fresh_lodge, Amount="x")])
    GrantHandler().upsert([bad_grant(fresh_lodge)])
    assert NinoxGrant.objects.filter(ninox_id=90001, lodge=fresh_lodge).exists()
    application = submit(fresh_lodge.number, "100.01")
    assert application.status == Status.REJECTED  # $3,900 used, $100 left


# ---- where staff see it ------------------------------------------------------------------


def test_the_health_page_lists_open_quarantines_with_their_raw_values(
    mirrored: Any, fresh_lodge: Lodge, reviewer: Any
) -> None:
    GrantHandler().upsert([bad_grant(fresh_lodge, Amount="3,900")])
    GrantHandler().upsert([bad_grant(None, ninox_id=90002, Lodge=["A1", "A2"])])
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Ninox values that could not be read (2)" in page
    assert "Grants 90001" in page
    assert "<code>&quot;3,900&quot;</code>" in page
    assert "<code>[&quot;A1&quot;,&quot;A2&quot;]</code>" in page
    assert "every lodge's applications" in page
    assert f'href="/lodges/{fresh_lodge.number}/"' in page


def test_the_health_page_says_so_when_nothing_is_quarantined(mirrored: Any, reviewer: Any) -> None:
    page = client_for(reviewer).get("/health/").content.decode()
    assert "Ninox values that could not be read (0)" in page


def test_the_lodge_page_shows_its_quarantined_values_and_not_other_lodges(
    mirrored: Any, fresh_lodge: Lodge, reviewer: Any
) -> None:
    other = Lodge.objects.exclude(id=fresh_lodge.id).first()
    assert other is not None
    GrantHandler().upsert([bad_grant(fresh_lodge, Amount="3,900")])
    client = client_for(reviewer)
    page = client.get(f"/lodges/{fresh_lodge.number}/").content.decode()
    assert "Ninox values that could not be read" in page
    assert "<code>&quot;3,900&quot;</code>" in page
    assert (
        "Ninox values that could not be read"
        not in client.get(f"/lodges/{other.number}/").content.decode()
    )


def test_the_lodge_page_says_why_a_lodge_counts_as_inactive(
    mirrored: Any, fresh_lodge: Lodge, reviewer: Any
) -> None:
    Lodge.objects.filter(id=fresh_lodge.id).update(
        active=False, inactive_reason="Active is empty in Ninox"
    )
    page = client_for(reviewer).get(f"/lodges/{fresh_lodge.number}/").content.decode()
    assert "<strong>Inactive</strong> (Active is empty in Ninox)" in page


@pytest.mark.parametrize("ninox_dialect", ["docs"])
def test_a_date_ninox_sends_as_a_number_outside_2000_to_2100_is_quarantined(
    mirrored: Any, fresh_lodge: Lodge, use_variant: Any, ninox_dialect: str
) -> None:
    grant_id = paid_grant_in_ninox(mirrored, fresh_lodge)

    def date_as_seconds(record: dict[str, Any]) -> None:
        if record.get("id") == grant_id:
            record["fields"]["Grant Date"] = 1780272000  # seconds, not milliseconds: 1970

    use_variant(reshape=date_as_seconds)
    application = submit(fresh_lodge.number, "500.00")
    assert application.status == Status.NEEDS_REVIEW
    assert "Grant Date is a number, not a date" in application.review_reason
