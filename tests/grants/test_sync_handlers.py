"""The sync handlers: strict values where the budget depends on them, sequences for repairs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from grants.models import Lodge, NinoxGrant, NinoxQuarantine
from grants.quarantine import quarantine_doubts
from grants.sync_handlers import ACTIVE_EMPTY, GrantHandler, LodgeHandler
from ninox_backend.types import Record

pytestmark = pytest.mark.django_db

LODGE_ID = 41  # the lodge's Ninox record id


def lodge_record(record_id: int = LODGE_ID, sequence: int = 10, **fields: Any) -> Record:
    values = {"Number": Decimal(741), "Name": "Kilwinning No. 741", "Active": True}
    values.update(fields)
    return Record(
        id=record_id,
        sequence=sequence,
        fields={k: v for k, v in values.items() if v is not None},
    )


def grant_record(record_id: int = 7, sequence: int = 20, **fields: Any) -> Record:
    values: dict[str, Any] = {
        "Lodge": LODGE_ID,
        "Amount": Decimal("3900.00"),
        "Grant Date": date(2026, 6, 1),
        "Status": "Paid",
        "Reference": "MG-2026-0001",
    }
    values.update(fields)
    return Record(
        id=record_id,
        sequence=sequence,
        fields={k: v for k, v in values.items() if v is not None},
    )


@pytest.fixture
def lodge(db: Any) -> Lodge:
    LodgeHandler().upsert([lodge_record()])
    return Lodge.objects.get(ninox_id=LODGE_ID)


def open_rows() -> list[NinoxQuarantine]:
    return list(NinoxQuarantine.objects.filter(resolved_at__isnull=True))


# ---- grants ------------------------------------------------------------------------------


def test_a_clean_grant_is_mirrored_with_its_sequence(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(sequence=33)])
    grant = NinoxGrant.objects.get(ninox_id=7)
    assert grant.lodge == lodge
    assert grant.amount == Decimal("3900.00")
    assert grant.ninox_sequence == 33
    assert open_rows() == []


def test_a_grant_without_a_reference_is_normal(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(Reference=None)])
    assert NinoxGrant.objects.get(ninox_id=7).reference == ""
    assert open_rows() == []


@pytest.mark.parametrize(
    ("field", "value", "reason", "raw"),
    [
        ("Lodge", "Kilwinning No. 741", "is text, not a link to a record", '"Kilwinning No. 741"'),
        ("Lodge", [LODGE_ID], "is a list of 1, not a link to a record", "[41]"),
        ("Lodge", True, "is true/false, not a link to a record", "true"),
        ("Amount", "3900.00", "is text, not an amount", '"3900.00"'),
        ("Amount", 3900.0, "is a number, not an amount", "3900.0"),
        ("Grant Date", Decimal("1780272000000"), "is a number, not a date", "1780272000000"),
        ("Grant Date", "01/06/2026", "is text, not a date", '"01/06/2026"'),
        (
            "Grant Date",
            datetime(2026, 6, 1, 12),
            "is a date and time, not a date",
            '"2026-06-01T12:00:00"',
        ),
        ("Status", 3, "is a number, not text", "3"),
        ("Reference", ["MG-2026-0001"], "is a list of 1, not text", '["MG-2026-0001"]'),
    ],
)
def test_a_value_of_the_wrong_shape_quarantines_the_grant_with_its_raw_value(
    lodge: Lodge, field: str, value: Any, reason: str, raw: str
) -> None:
    GrantHandler().upsert([grant_record(**{field: value})])
    [row] = open_rows()
    assert (row.table, row.ninox_id, row.field) == ("Grants", 7, field)
    assert (row.reason, row.raw_value) == (reason, raw)
    # Never counted as $0 or as "no lodge": it is not in the mirror at all.
    assert not NinoxGrant.objects.filter(ninox_id=7).exists()


@pytest.mark.parametrize("field", ["Lodge", "Amount"])
def test_an_absent_lodge_link_or_amount_is_quarantined(lodge: Lodge, field: str) -> None:
    absent: dict[str, Any] = {field: None}
    GrantHandler().upsert([grant_record(**absent)])
    [row] = open_rows()
    assert row.field == field
    assert "is empty" in row.reason
    assert row.raw_value == "null"


def test_a_grant_read_wrong_after_a_clean_read_leaves_the_mirror(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record()])
    GrantHandler().upsert([grant_record(Amount="lots", sequence=21)])
    assert not NinoxGrant.objects.filter(ninox_id=7).exists()
    assert NinoxQuarantine.objects.get().raw_value == '"lots"'


def test_a_later_clean_read_resolves_the_quarantine(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(Amount="lots")])
    assert quarantine_doubts(lodge.id)
    GrantHandler().upsert([grant_record(sequence=21)])
    row = NinoxQuarantine.objects.get()
    assert row.resolved_at is not None
    assert quarantine_doubts(lodge.id) == []
    assert NinoxGrant.objects.get(ninox_id=7).amount == Decimal("3900.00")


def test_a_quarantine_that_comes_back_opens_again_and_is_seen_again(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(Amount="lots")])
    first = NinoxQuarantine.objects.get()
    GrantHandler().upsert([grant_record(Amount="lots")])
    again = NinoxQuarantine.objects.get()
    assert again.first_seen == first.first_seen
    assert again.last_seen >= first.last_seen
    GrantHandler().upsert([grant_record()])
    GrantHandler().upsert([grant_record(Amount="more")])
    reopened = NinoxQuarantine.objects.get()
    assert reopened.resolved_at is None
    assert reopened.raw_value == '"more"'


def test_deleting_a_quarantined_grant_in_ninox_resolves_it(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(Amount="lots")])
    GrantHandler().delete([7])
    assert open_rows() == []


def test_one_bad_record_does_not_keep_the_others_out(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(7, Amount="lots"), grant_record(8, Reference="")])
    assert list(NinoxGrant.objects.values_list("ninox_id", flat=True)) == [8]


def test_the_grants_sequences_are_what_the_mirror_holds(lodge: Lodge) -> None:
    GrantHandler().upsert([grant_record(7, sequence=31), grant_record(8, sequence=32)])
    GrantHandler().upsert([grant_record(9, Amount="lots")])
    assert GrantHandler().sequences() == {7: 31, 8: 32}  # 9 is re-read by the reconciliation


# ---- lodges ------------------------------------------------------------------------------


def test_a_lodge_is_mirrored_with_its_sequence(lodge: Lodge) -> None:
    assert lodge.number == 741
    assert lodge.active is True
    assert lodge.inactive_reason == ""
    assert LodgeHandler().sequences() == {LODGE_ID: 10}


def test_an_empty_active_means_inactive_and_says_so(db: Any) -> None:
    LodgeHandler().upsert([lodge_record(Active=None)])
    lodge = Lodge.objects.get(ninox_id=LODGE_ID)
    assert lodge.active is False
    assert lodge.inactive_reason == ACTIVE_EMPTY
    assert open_rows() == []


def test_active_of_the_wrong_shape_is_quarantined_and_the_lodge_counts_as_inactive(
    db: Any,
) -> None:
    LodgeHandler().upsert([lodge_record(Active="yes")])
    lodge = Lodge.objects.get(ninox_id=LODGE_ID)
    assert lodge.active is False
    [row] = open_rows()
    assert (row.table, row.field, row.lodge_ninox_id) == ("Lodges", "Active", LODGE_ID)
    assert quarantine_doubts(lodge.id)


@pytest.mark.parametrize("number", ["741", Decimal("741.5"), [741], True])
def test_a_number_of_the_wrong_shape_keeps_the_last_clean_read(lodge: Lodge, number: Any) -> None:
    LodgeHandler().upsert([lodge_record(Number=number, Name="Renamed", sequence=11)])
    lodge.refresh_from_db()
    assert (lodge.number, lodge.name, lodge.ninox_sequence) == (741, "Kilwinning No. 741", 10)
    [row] = open_rows()
    assert row.field == "Number"
    assert quarantine_doubts(lodge.id)


def test_a_lodge_without_a_number_is_not_mirrored_and_not_quarantined(db: Any) -> None:
    LodgeHandler().upsert([lodge_record(Number=None)])
    assert not Lodge.objects.exists()
    assert open_rows() == []
