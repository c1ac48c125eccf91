"""The lodge list's search and order, one lodge's year-by-year history, the districts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import Status
from grants.rules import current_fiscal_year
from grants.selectors.lodges import lodge_districts, lodge_history, lodge_rows
from tests.factories import ApplicationFactory, LodgeFactory, NinoxGrantFactory

pytestmark = pytest.mark.django_db

CAP = Decimal("4000.00")
MAY_FIRST = (5, 1)


def test_it_finds_lodges_by_name_district_city_or_number() -> None:
    harbour = LodgeFactory.create(name="Harbour Lights", district="Coast", city="Portsea")
    LodgeFactory.create(name="Hill Top", district="Uplands", city="Fell")
    fy = current_fiscal_year().key
    for q in ("harbour", "coast", "PORTSEA", str(harbour.number)):
        assert [lodge.number for lodge in lodge_rows(fy, CAP, q=q)] == [harbour.number], q


def test_it_orders_by_the_sort_named_and_by_number_otherwise() -> None:
    light = LodgeFactory.create()
    heavy = LodgeFactory.create()
    NinoxGrantFactory.create(lodge=heavy, amount=Decimal("3000.00"))
    NinoxGrantFactory.create(lodge=light, amount=Decimal("100.00"))
    fy = current_fiscal_year().key
    assert [row.pk for row in lodge_rows(fy, CAP, sort="-used")] == [heavy.pk, light.pk]
    assert [row.pk for row in lodge_rows(fy, CAP, sort="remaining")] == [heavy.pk, light.pk]
    assert [row.pk for row in lodge_rows(fy, CAP, sort="; drop table")] == [light.pk, heavy.pk]


def test_the_districts_are_each_named_once_in_order_without_blanks() -> None:
    for district in ("South", "North", "South", ""):
        LodgeFactory.create(district=district)
    assert list(lodge_districts()) == ["North", "South"]


def test_the_history_puts_each_year_side_by_side_and_flags_what_disagrees() -> None:
    lodge = LodgeFactory.create()
    fy = current_fiscal_year().key
    by_hand = NinoxGrantFactory.create(lodge=lodge, reference="", amount=Decimal("300.00"))
    NinoxGrantFactory.create(lodge=lodge, status="Cancelled", amount=Decimal("999.00"))
    paid = ApplicationFactory.create(lodge=lodge, paid=True, amount_requested=Decimal("200.00"))
    differs = NinoxGrantFactory.create(
        lodge=lodge, reference=paid.reference, amount=Decimal("250.00")
    )
    waiting = ApplicationFactory.create(lodge=lodge, approved=True)
    older = ApplicationFactory.create(lodge=lodge, status=Status.REJECTED, fiscal_year=fy - 1)
    undated = NinoxGrantFactory.create(lodge=lodge, fiscal_year=None, grant_date=None)

    history = lodge_history(lodge, MAY_FIRST)

    assert [year["fy"].key if year["fy"] else None for year in history] == [fy, fy - 1, None]
    this_year = history[0]
    assert this_year["used_in_ninox"] == Decimal("550.00")  # the cancelled grant does not count
    flags = {row["grant"].pk: (row["flag"], row["note"]) for row in this_year["grants"]}
    assert flags[by_hand.pk] == ("", "Entered in Ninox by hand")
    assert flags[differs.pk] == ("Amount differs from the portal's 200.00", "")
    applications = {
        row["application"].pk: (row["flag"], row["note"]) for row in this_year["applications"]
    }
    assert applications == {
        paid.pk: ("", ""),
        waiting.pk: ("", "Approved, waiting for payment; not in Ninox yet"),
    }
    assert [row["application"].pk for row in history[1]["applications"]] == [older.pk]
    assert [row["grant"].pk for row in history[2]["grants"]] == [undated.pk]


def test_a_ninox_grant_from_before_the_portal_is_a_note_not_a_warning() -> None:
    lodge = LodgeFactory.create()
    ApplicationFactory.create(lodge=lodge)  # the portal began today
    old = NinoxGrantFactory.create(
        lodge=lodge,
        reference="MG-2019-00007",
        grant_date=timezone.localdate() - timedelta(days=400),
    )
    rows = [row for year in lodge_history(lodge, MAY_FIRST) for row in year["grants"]]
    assert [(row["grant"].pk, row["flag"], row["note"]) for row in rows] == [
        (old.pk, "", "From before the portal")
    ]


def test_a_ninox_grant_since_the_portal_began_without_its_application_is_flagged() -> None:
    lodge = LodgeFactory.create()
    ApplicationFactory.create(lodge=lodge)
    stray = NinoxGrantFactory.create(
        lodge=lodge, reference="MG-2026-09999", grant_date=timezone.localdate()
    )
    rows = [row for year in lodge_history(lodge, MAY_FIRST) for row in year["grants"]]
    assert [(row["grant"].pk, row["flag"]) for row in rows] == [(stray.pk, "Not in the portal")]


def test_before_any_application_every_ninox_grant_is_from_before_the_portal() -> None:
    lodge = LodgeFactory.create()
    NinoxGrantFactory.create(lodge=lodge, reference="MG-2026-00001")
    rows = [row for year in lodge_history(lodge, MAY_FIRST) for row in year["grants"]]
    assert [(row["flag"], row["note"]) for row in rows] == [("", "From before the portal")]
