"""The client core and the sync engine against both emulator dialects and their fault variants.

The ``docs`` dialect answers as Ninox's documents show (and, where they are silent, in the
least convenient plausible way); ``legacy`` is the emulator as it was. The client must stay
right on each: lookups that find the right record or say they cannot be trusted, the
records?sinceSq= sync by default, a feed it does not understand refused loudly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from ninox_fakes import Mirror

from ninox_backend import NinoxClient, NinoxError, NinoxLookupUnreliable, NinoxSyncError
from ninox_backend.database import Database
from ninox_backend.profile import CapabilityProfile
from ninox_backend.sync import InMemorySyncStateStore, SyncEngine, SyncState
from ninox_backend.testing import CLASSIC_VARIANTS, EmulatedNinox, EmulatorVariant, emulated_ninox

SCHEMA: dict[str, list[dict[str, Any]]] = {
    "Lodges": [
        {"name": "Number", "type": "number"},
        {"name": "Name", "type": "text"},
        {"name": "Website", "type": "url"},
    ],
    "Grants": [
        {"name": "Lodge", "type": "reference", "table": "Lodges"},
        {"name": "Reference", "type": "text"},
        {"name": "Amount", "type": "number"},
        {"name": "Grant Date", "type": "date"},
    ],
}
RECORDS: dict[str, list[dict[str, Any]]] = {
    "Lodges": [{"Number": n, "Name": f"Lodge {n}"} for n in (1, 2, 3)],
    "Grants": [
        {
            "Lodge": 1 + i % 3,
            "Reference": f"APP-{i}",
            "Amount": Decimal(f"{i}00.25"),
            "Grant Date": dt.date(2026, 5, 1 + i).isoformat(),
        }
        for i in range(1, 8)
    ],
}


# The workspace API's client and sync: test_workspace.py.
@pytest.fixture(params=CLASSIC_VARIANTS, ids=lambda v: v.id)
def variant(request: pytest.FixtureRequest) -> EmulatorVariant:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def ninox(variant: EmulatorVariant) -> Iterator[EmulatedNinox]:
    with emulated_ninox(SCHEMA, RECORDS, faults=variant.faults, dialect=variant.dialect) as n:
        yield n


@pytest.fixture
def db(ninox: EmulatedNinox) -> Database:
    client = NinoxClient(
        token=ninox.token, base_url=ninox.base_url, transport=ninox.transport, sleep=lambda s: None
    )
    return client.database(ninox.team_id, ninox.database_id)


# ---- values and the schema ------------------------------------------------------------------


def test_values_read_the_same_in_every_variant(db: Database) -> None:
    grants = db.table("Grants").all()
    assert [g["Reference"] for g in grants] == [f"APP-{i}" for i in range(1, 8)]
    assert grants[0]["Amount"] == Decimal("100.25")
    assert grants[0]["Grant Date"] == dt.date(2026, 5, 2)  # a string or epoch ms, read as a date
    assert grants[0]["Lodge"] == 2
    lodges = db.schema().table("Lodges")
    assert db.schema().table("Grants").field("Lodge").type == "reference"
    assert lodges.field("Website").type == "url"


def test_an_idle_incremental_sync_costs_one_call_per_table(db: Database) -> None:
    engine = SyncEngine(db, InMemorySyncStateStore(), {"Lodges": Mirror(), "Grants": Mirror()})
    engine.sync()
    engine.sync()
    assert engine.sync().calls == 2


def test_the_stored_sync_state_holds_the_schema_of_every_variant(db: Database) -> None:
    engine = SyncEngine(db, InMemorySyncStateStore(), {"Grants": Mirror()})
    engine.sync()
    state = engine.state.get(engine.key)
    text = json.dumps(state.to_json())  # a JSONField's encoder: exact decimals must survive
    assert SyncState.from_json(json.loads(text)).schema == state.schema


# ---- lookups --------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["post-filters", "get-records-filters"])
def test_the_documented_lookup_forms_find_the_right_record_or_none(db: Database, form: str) -> None:
    grants = db.table("Grants")
    found = grants.first({"Reference": "APP-5", "Amount": Decimal("500.25")}, form=form)
    assert found is not None
    assert found["Reference"] == "APP-5"
    assert grants.first({"Reference": "APP-99"}, form=form) is None


def test_the_flat_lookup_form_is_right_where_honoured_and_refused_where_not(
    db: Database, variant: EmulatorVariant
) -> None:
    grants = db.table("Grants")
    if variant.dialect == "docs":
        found = grants.first({"Reference": "APP-5"}, form="post-flat")
        assert found is not None
        assert found["Reference"] == "APP-5"
    else:  # the legacy emulator reads only {"filters": …}: the first record comes back
        with pytest.raises(NinoxLookupUnreliable, match="not honoured"):
            grants.first({"Reference": "APP-5"}, form="post-flat")


def test_find_confirms_a_record_with_an_nx_query_where_queries_are_allowed(
    db: Database, variant: EmulatorVariant
) -> None:
    grants = db.table("Grants")
    if variant.faults == "query_refused":
        with pytest.raises(NinoxError) as refused:
            grants.find({"Reference": "APP-5"})
        assert not isinstance(refused.value, NinoxLookupUnreliable)
        return
    assert [r["Reference"] for r in grants.find({"Reference": "APP-5"})] == ["APP-5"]
    assert grants.find({"Reference": "APP-99"}) == []


# ---- paging ---------------------------------------------------------------------------------


def test_asking_for_more_than_the_cap_still_reads_every_record(ninox: EmulatedNinox) -> None:
    client = NinoxClient(token=ninox.token, base_url=ninox.base_url, transport=ninox.transport)
    grants = client.database(ninox.team_id, ninox.database_id).table("Grants")
    grants.save_many([{"fields": {"Reference": f"BULK-{i}"}} for i in range(240)])
    assert len(grants.all(per_page=500)) == 247


# ---- the sync engine ------------------------------------------------------------------------


def test_the_default_sync_follows_updates_creates_and_deletes(db: Database) -> None:
    grants = Mirror()
    engine = SyncEngine(
        db,
        InMemorySyncStateStore(),
        {"Lodges": Mirror(), "Grants": grants},
        per_page=3,
        reconcile_every=dt.timedelta(0),
    )
    engine.sync()
    table = db.table("Grants")
    table.update(2, {"Amount": Decimal("3900.00")})
    new = table.create({"Reference": "NEW-1", "Amount": Decimal("10.00")})
    table.delete(3)
    engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("3900.00")
    assert new.id in grants.rows
    assert 3 not in grants.rows


def test_a_full_load_with_a_progress_estimate_completes_in_every_variant(db: Database) -> None:
    totals: list[int | None] = []
    grants = Mirror()
    engine = SyncEngine(
        db,
        InMemorySyncStateStore(),
        {"Grants": grants},
        progress=lambda p: totals.append(p.total),
        estimate_totals=True,
    )
    engine.sync()
    assert len(grants.rows) == 7
    assert set(totals) <= {7, None}


def test_with_the_feed_profile_a_feed_it_cannot_apply_stops_the_sync_or_it_falls_back(
    db: Database, variant: EmulatorVariant
) -> None:
    grants = Mirror()
    store = InMemorySyncStateStore()
    profile = CapabilityProfile(change_feed=True)
    engine = SyncEngine(db, store, {"Grants": grants}, profile=profile)
    engine.sync()
    db.table("Grants").update(2, {"Amount": Decimal("3900.00")})
    marks = store.get(engine.key).marks
    if variant.dialect == "docs" and variant.faults != "changes_404":
        # A bare list of records: no table, no deletes. Refused, never skipped.
        with pytest.raises(NinoxSyncError):
            engine.sync()
        assert store.get(engine.key).marks == marks
        assert grants.rows[2]["Amount"] == Decimal("200.25")
        return
    result = engine.sync()
    assert result.mode == ("records" if variant.faults == "changes_404" else "feed")
    assert grants.rows[2]["Amount"] == Decimal("3900.00")
