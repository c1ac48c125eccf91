"""Districts sort by their number, never alphabetically."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.districts import district_number, sorted_districts
from grants.selectors.lodges import lodge_districts, lodge_rows
from tests.factories import LodgeFactory

ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
            "Ninth", "Tenth", "Eleventh", "Twelfth"]  # fmt: skip


def test_it_reads_a_districts_number_from_a_word_or_digits() -> None:
    assert district_number("Eleventh") == 11
    assert district_number("twelfth district") == 12
    assert district_number("District 3") == 3
    assert district_number("Coast") is None


def test_it_sorts_ordinal_districts_by_number_not_alphabetically() -> None:
    shuffled = sorted(ORDINALS)  # Eighth, Eleventh, Fifth, First, …
    assert sorted_districts(shuffled) == ORDINALS


def test_it_sorts_digit_districts_by_value_and_unnumbered_ones_last_by_name() -> None:
    assert sorted_districts(["10", "Uplands", "2", "Coast", "District 1"]) == [
        "District 1", "2", "10", "Coast", "Uplands",
    ]  # fmt: skip


@pytest.mark.django_db
def test_the_district_pickers_list_districts_by_number() -> None:
    for number, district in enumerate(sorted(ORDINALS), start=1):
        LodgeFactory.create(ninox_id=7000 + number, number=700 + number, district=district)
    assert lodge_districts() == ORDINALS


@pytest.mark.django_db
def test_the_lodge_list_sorted_by_district_follows_the_districts_numbers() -> None:
    for number, district in enumerate(["Tenth District", "Second", "Coast", "first"], start=1):
        LodgeFactory.create(ninox_id=7100 + number, number=710 + number, district=district)
    rows = lodge_rows(2026, Decimal("3000.00"), sort="district")
    assert [lodge.district for lodge in rows] == ["first", "Second", "Tenth District", "Coast"]
