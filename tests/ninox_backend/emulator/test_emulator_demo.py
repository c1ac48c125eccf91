"""The demo data: deterministic, and the promised situations hold for any seed."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.emulator.demo import CAP, fiscal_year_start, local_today

TODAY = date(2026, 11, 25)


def load(seed: int, today: date = TODAY, **sizes: int) -> tuple[Emulator, list[dict], list[dict]]:
    # A fixed clock: records carry createdAt, and two loads may straddle a second.
    emu = Emulator(clock=lambda: datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC), dialect="legacy")
    emu.seed_demo(seed=seed, today=today, **sizes)
    db = emu.store.database("demo", "grants")
    lodges = [
        emu.store.record_json(emu.store.table(db, "Lodges"), row)
        for row in emu.store.rows(emu.store.table(db, "Lodges")).rows
    ]
    grants = [
        emu.store.record_json(emu.store.table(db, "Grants"), row)
        for row in emu.store.rows(emu.store.table(db, "Grants")).rows
    ]
    return emu, lodges, grants


def fiscal_totals(grants: list[dict]) -> dict[tuple[int, date], Decimal]:
    totals: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for grant in grants:
        fields = grant["fields"]
        if fields["Status"] != "Cancelled":
            year = fiscal_year_start(date.fromisoformat(fields["Grant Date"]))
            totals[fields["Lodge"], year] += fields["Amount"]
    return totals


@pytest.mark.parametrize("seed", [1, 2, 3, 42, 2026])
@pytest.mark.parametrize("today", [TODAY, date(2027, 5, 1), date(2026, 4, 30)])
def test_the_promised_situations_hold_for_any_seed(seed: int, today: date) -> None:
    _, lodges, grants = load(seed, today)
    fy = fiscal_year_start(today)
    totals = fiscal_totals(grants)
    active = [lodge["id"] for lodge in lodges if lodge["fields"]["Active"]]
    with_grants = {g["fields"]["Lodge"] for g in grants if g["fields"]["Grant Date"] >= str(fy)}
    used = {lodge: totals.get((lodge, fy), Decimal(0)) for lodge in active}
    assert len(lodges) == 120
    assert 1400 <= len(grants) <= 1600
    assert sum(1 for lodge in active if lodge not in with_grants) >= 10
    assert sum(1 for value in used.values() if Decimal(3000) <= value <= Decimal(3999)) >= 5
    assert sum(1 for value in used.values() if value == CAP) >= 3
    assert len(lodges) - len(active) >= 3
    assert max(totals.values()) <= CAP
    assert all(str(fy.replace(year=fy.year - 2)) <= g["fields"]["Grant Date"] for g in grants)
    assert all(g["fields"]["Grant Date"] <= str(today) for g in grants)


def test_the_same_seed_gives_the_same_data() -> None:
    _, lodges_a, grants_a = load(5)
    _, lodges_b, grants_b = load(5)
    _, lodges_c, _ = load(6)
    assert lodges_a == lodges_b
    assert grants_a == grants_b
    assert lodges_a != lodges_c


def test_the_demo_looks_like_the_foundations_data() -> None:
    emu, lodges, grants = load(42)
    assert emu.store.teams() == [{"id": "demo", "name": "Demo Foundation"}]
    assert emu.store.database("demo", "grants").name == "Lodge Grants"
    assert len({lodge["fields"]["District"] for lodge in lodges}) == 12
    number = lodges[0]["fields"]["Number"]
    assert lodges[0]["fields"]["Name"].endswith(f"No. {number}")
    statuses = {g["fields"]["Status"] for g in grants}
    assert statuses == {"Approved", "Paid", "Cancelled"}
    by_hand = [g for g in grants if "Reference" not in g["fields"]]
    assert 0 < len(by_hand) < len(grants) // 10
    reference = next(g["fields"]["Reference"] for g in grants if "Reference" in g["fields"])
    assert reference.startswith("MG-20")
    assert len(reference) == len("MG-2025-00042")
    cents = [g for g in grants if g["fields"]["Amount"] != int(g["fields"]["Amount"])]
    assert cents
    paid = next(g for g in grants if g["fields"]["Status"] == "Paid")
    assert "Paid At" in paid["fields"]
    assert "Payment" in paid["fields"]


def test_the_portals_fiscal_year_query_equals_summing_the_records() -> None:
    emu, lodges, grants = load(3)
    totals = fiscal_totals(grants)
    fy = fiscal_year_start(TODAY)
    for lodge in lodges[:15]:
        number = lodge["fields"]["Number"]
        got = emu.query(
            "demo",
            "grants",
            f"sum((select Grants where Lodge.Number = {number} and 'Grant Date' >= "
            f"date({fy.year}, 5, 1) and 'Grant Date' <= date({fy.year + 1}, 4, 30) "
            'and Status != "Cancelled").Amount)',
        )
        expected = totals.get((lodge["id"], fy))
        assert got == expected


def test_the_fy_total_formula_follows_today() -> None:
    emu, lodges, grants = load(8, today=local_today())
    totals = fiscal_totals(grants)
    fy = fiscal_year_start(local_today())
    formula = emu.query("demo", "grants", "(select Lodges).'FY Total'")
    expected = [totals[(lodge["id"], fy)] for lodge in lodges if (lodge["id"], fy) in totals]
    assert formula == expected


@pytest.mark.slow
def test_the_large_demo_loads_well_under_a_minute() -> None:
    # The CPU time this process spends, not the wall clock: on a machine shared with other
    # work (CI, or 2 cores running several suites) the wall clock measures the others too.
    start = time.process_time()
    emu, lodges, grants = load(1, lodges=1000, grants=50000)
    assert time.process_time() - start < 20
    assert len(lodges) == 1000
    assert 49000 <= len(grants) <= 51000
    assert max(fiscal_totals(grants).values()) <= CAP
    emu.close()
