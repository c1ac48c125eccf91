"""The client against the in-process emulator, through every endpoint of ninox-api.md."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ninox_fakes import Mirror

from ninox_backend import (
    Appointment,
    Location,
    NinoxAuthError,
    NinoxClient,
    NinoxLookupUnreliable,
    NinoxNotFound,
    NinoxQuotaExceeded,
    NinoxRateLimited,
    NinoxServerError,
    NinoxValidationError,
    RetryPolicy,
    Table,
    nx,
)
from ninox_backend.database import Database
from ninox_backend.profile import CapabilityProfile
from ninox_backend.sync import InMemorySyncStateStore, SyncEngine
from ninox_backend.testing import EmulatedNinox, demo_ninox, emulated_ninox

UTC = dt.UTC


@pytest.fixture(autouse=True)
def legacy_dialect(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every endpoint as the legacy emulator answers it (the feed's object, lookups by name);
    the documents' reading is covered by test_client_dialects.py and test_lookups.py."""
    monkeypatch.setenv("NINOX_EMULATOR_DIALECT", "legacy")


SCHEMA: dict[str, list[dict[str, Any]]] = {
    "Lodges": [
        {"name": "Number", "type": "number", "required": True},
        {"name": "Name", "type": "text"},
        {"name": "Active", "type": "boolean"},
    ],
    "Grants": [
        {"name": "Lodge", "type": "reference", "table": "Lodges"},
        {"name": "Reference", "type": "text"},
        {"name": "Amount", "type": "number"},
        {"name": "Grant Date", "type": "date"},
        {"name": "Paid At", "type": "datetime"},
        {"name": "Start", "type": "time"},
        {"name": "Duration", "type": "timeinterval"},
        {"name": "Meeting", "type": "appointment"},
        {"name": "Paid", "type": "boolean"},
        {"name": "Status", "type": "choice", "options": ["Open", "Paid", "Cancelled"]},
        {"name": "Tags", "type": "multi", "options": ["Urgent", "Local"]},
        {"name": "Place", "type": "location"},
        {"name": "Contact", "type": "email"},
        {"name": "Letter", "type": "file"},
        {"name": "Double", "type": "formula", "formula": "Amount * 2"},
    ],
}
LODGES = [{"Number": 1, "Name": "Kilwinning", "Active": True}, {"Number": 2, "Name": "Harmony"}]

EVERY_TYPE: dict[str, Any] = {
    "Lodge": 1,
    "Reference": "APP-0001",
    "Amount": Decimal("1234.56"),
    "Grant Date": dt.date(2026, 5, 1),
    "Paid At": dt.datetime(2026, 5, 1, 12, 30, tzinfo=UTC),
    "Start": dt.time(9, 15),
    "Duration": dt.timedelta(hours=123, minutes=25, seconds=16, milliseconds=123),
    "Meeting": Appointment(
        dt.datetime(2026, 5, 1, 12, 30, tzinfo=UTC), dt.datetime(2026, 5, 1, 13, 30, tzinfo=UTC)
    ),
    "Paid": False,
    "Status": "Paid",
    "Tags": ["Urgent", "Local"],
    "Place": Location("Lodge Hall", Decimal("52.53"), Decimal("13.39")),
    "Contact": "sec@lodge.example",
}


@pytest.fixture
def ninox() -> Iterator[EmulatedNinox]:
    with emulated_ninox(schema=SCHEMA, records={"Lodges": LODGES}) as emulated:
        yield emulated


def make_client(ninox: EmulatedNinox, **kwargs: Any) -> NinoxClient:
    kwargs.setdefault("sleep", lambda seconds: None)
    return NinoxClient(
        token=ninox.token, base_url=ninox.base_url, transport=ninox.transport, **kwargs
    )


@pytest.fixture
def db(ninox: EmulatedNinox) -> Database:
    return make_client(ninox).database(ninox.team_id, ninox.database_id)


@pytest.fixture
def grants(db: Database) -> Table:
    return db.table("Grants")


# ---- teams, databases, schema, tables ---------------------------------------------------


def test_teams_team_and_databases(ninox: EmulatedNinox) -> None:
    client = make_client(ninox)
    assert [t.id for t in client.teams()] == [ninox.team_id]
    assert client.team(ninox.team_id).id == ninox.team_id
    assert [d.id for d in client.databases(ninox.team_id)] == [ninox.database_id]


def test_the_schema_maps_every_table_and_field(db: Database) -> None:
    schema = db.schema()
    assert schema.seq is not None
    grants = schema.table("Grants")
    assert [f.name for f in grants.fields] == [f["name"] for f in SCHEMA["Grants"]]
    assert {f.name: f.type for f in grants.fields}["Tags"] == "multi"
    assert grants.field("Lodge").ref_table == schema.table("Lodges").id
    assert set(grants.field("Status").choices.values()) == {"Open", "Paid", "Cancelled"}
    assert grants.field("Double").formula == "Amount * 2"
    assert schema.table("Lodges").field("Number").required


def test_tables_and_table_info_agree_with_the_schema(db: Database) -> None:
    schema = db.schema()
    listed = db.tables()
    assert [(t.id, t.name) for t in listed] == [(t.id, t.name) for t in schema.tables]
    info = db.table_info("Grants")
    assert [(f.id, f.name, f.type) for f in info.fields] == [
        (f.id, f.name, f.type) for f in schema.table("Grants").fields
    ]


# ---- records ----------------------------------------------------------------------------


def test_every_field_type_round_trips_through_the_emulator(grants: Table) -> None:
    created = grants.create(EVERY_TYPE)
    again = grants.get(created.id)
    for name, value in EVERY_TYPE.items():
        assert again[name] == value, name
        assert created[name] == value, name
    assert "Double" not in again.fields  # formulas come only through query
    assert isinstance(again.created_at, dt.datetime)
    assert again.created_at.tzinfo is not None


def test_create_update_save_many_and_delete(grants: Table) -> None:
    first = grants.create({"Reference": "A", "Amount": Decimal("10.00")})
    updated = grants.update(first.id, {"Amount": Decimal("12.50")})
    assert updated["Amount"] == Decimal("12.50")
    assert updated["Reference"] == "A"  # a partial update keeps the other fields
    assert updated.sequence is not None
    assert first.sequence is not None
    assert updated.sequence > first.sequence
    saved = grants.save_many(
        [{"fields": {"Reference": "B"}}, {"id": first.id, "fields": {"Status": "Open"}}]
    )
    assert saved[1].id == first.id
    assert saved[1]["Status"] == "Open"
    assert saved[0]["Reference"] == "B"
    grants.delete(first.id)
    with pytest.raises(NinoxNotFound):
        grants.get(first.id)
    extra = grants.save_many([{"fields": {"Reference": str(i)}} for i in range(3)])
    grants.delete_many([r.id for r in extra])
    assert [r["Reference"] for r in grants.all()] == ["B"]


def test_paging_reads_every_record_with_the_expected_calls(
    ninox: EmulatedNinox, grants: Table
) -> None:
    grants.save_many([{"fields": {"Reference": f"R{i:02d}", "Amount": i}} for i in range(25)])
    ninox.emulator.calls = 0
    records = grants.all(per_page=10)
    assert [r["Reference"] for r in records] == [f"R{i:02d}" for i in range(25)]
    assert ninox.emulator.calls == 3


def test_listing_filters_since_order_and_ids(grants: Table) -> None:
    saved = grants.save_many(
        [{"fields": {"Reference": f"R{i}", "Amount": i, "Status": "Paid" if i % 2 else "Open"}}
         for i in range(6)]
    )  # fmt: skip
    ids = [r.id for r in saved]
    assert [r.id for r in grants.all(since_id=ids[3])] == ids[4:]
    assert [r.id for r in grants.all(since_sq=saved[4].sequence)] == ids[5:]
    assert [r["Amount"] for r in grants.all(order="Amount", desc=True)][:2] == [5, 4]
    assert {r.id for r in grants.all(filters={"Status": "Paid"})} == {ids[1], ids[3], ids[5]}
    assert [r.id for r in grants.all(ids=[ids[0], ids[2]])] == [ids[0], ids[2]]


def test_lookups_find_the_first_match_or_none(grants: Table) -> None:
    grants.create({"Reference": "APP-7", "Grant Date": dt.date(2026, 5, 1)})
    found = grants.first(filters={"Reference": "APP-7"})
    assert found is not None
    assert found["Grant Date"] == dt.date(2026, 5, 1)
    by_get = grants.first({"Grant Date": dt.date(2026, 5, 1)}, form="get-records-filters")
    assert by_get is not None
    assert by_get.id == found.id
    assert grants.first(filters={"Reference": "nope"}) is None


def test_a_lookup_form_the_server_ignores_is_not_honoured_never_a_wrong_record(
    grants: Table,
) -> None:
    grants.create({"Reference": "APP-1"})
    grants.create({"Reference": "APP-2"})
    # The legacy emulator reads only {"filters": …}: the flat body matches the first record.
    with pytest.raises(NinoxLookupUnreliable, match="not honoured"):
        grants.first({"Reference": "APP-2"}, form="post-flat")


def test_find_confirms_existence_with_an_nx_query_and_reads_each_record(grants: Table) -> None:
    first = grants.create({"Reference": 'APP "7"', "Amount": Decimal("10.50")})
    grants.create({"Reference": "APP-8"})
    found = grants.find({"Reference": 'APP "7"'})
    assert [r.id for r in found] == [first.id]
    assert found[0]["Amount"] == Decimal("10.50")
    assert grants.find({"Reference": "nope"}) == []


# ---- change feeds -----------------------------------------------------------------------


def test_the_change_feeds_of_database_table_and_record(db: Database, grants: Table) -> None:
    doomed = grants.create({"Reference": "C0"})
    start = db.changes(since_sq=10**12).seq
    assert start is not None
    created = grants.create({"Reference": "C1"})
    db.table("Lodges").update(1, {"Name": "Renamed"})
    grants.delete(doomed.id)
    changes = db.changes(since_sq=start)
    assert [(c.table, c.id, c.op) for c in changes.changes] == [
        ("Grants", created.id, "create"),
        ("Lodges", 1, "update"),
        ("Grants", doomed.id, "delete"),
    ]
    assert changes.seq == changes.changes[-1].seq
    assert changes.changes[1].record is not None
    assert changes.changes[1].record["Name"] == "Renamed"
    assert changes.changes[2].record is None
    assert [c.table for c in grants.changes(since_sq=start).changes] == ["Grants"] * 2
    grants.update(created.id, {"Amount": 5})
    history = grants.record_changes(created.id, since_sq=start)
    # The emulator reports net changes: the latest change of each record.
    assert [(c.op, c.record["Amount"]) for c in history.changes if c.record] == [
        ("update", Decimal(5))
    ]


# ---- files ------------------------------------------------------------------------------


def test_files_upload_list_download_metadata_and_delete(grants: Table) -> None:
    record = grants.create({"Reference": "F1"})
    grants.upload(record.id, "letter one.pdf", b"%PDF-1.4 hello", field="Letter")
    grants.upload(record.id, "note.txt", b"attached")
    assert sorted(f.name for f in grants.files(record.id)) == ["letter one.pdf", "note.txt"]
    assert grants.download(record.id, "letter one.pdf") == b"%PDF-1.4 hello"
    assert grants.file_metadata(record.id, "note.txt")
    grants.delete_file(record.id, "note.txt")
    assert [f.name for f in grants.files(record.id)] == ["letter one.pdf"]
    with pytest.raises(NinoxNotFound):
        grants.download(record.id, "note.txt")


def test_a_thumbnail_of_an_image(grants: Table) -> None:
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    record = grants.create({"Reference": "F2"})
    grants.upload(record.id, "dot.png", png)
    assert grants.thumbnail(record.id, "dot.png")


# ---- NX ---------------------------------------------------------------------------------


def test_query_with_the_builder_sums_exactly(db: Database, grants: Table) -> None:
    for amount in ("0.10", "0.20", "1000.05"):
        grants.create({"Lodge": 1, "Amount": Decimal(amount), "Grant Date": dt.date(2026, 6, 1)})
    grants.create({"Lodge": 2, "Amount": Decimal("7.00"), "Grant Date": dt.date(2026, 6, 1)})
    selection = nx.select("Grants").where(
        nx.eq(nx.field("Lodge", "Number"), 1), nx.ge("Grant Date", nx.date(2026, 5, 1))
    )
    assert db.query(nx.sum_(selection, "Amount")) == Decimal("1000.35")
    assert db.query(nx.count(selection)) == 3
    assert db.query(nx.sum_(nx.select("Grants").where(nx.eq("Reference", "none")), "Amount")) in (
        None,
        0,
    )
    assert db.query_get(nx.count(nx.select("Lodges"))) == 2


def test_exec_writes_and_query_does_not(db: Database) -> None:
    db.exec('let r := (create Grants); r.(Reference := "by exec"); r')
    assert db.table("Grants").first(filters={"Reference": "by exec"}) is not None
    with pytest.raises(NinoxValidationError):
        db.query("let r := (create Grants); r")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(max_size=40))
def test_any_string_survives_the_emulators_nx_parser_unchanged(db: Database, value: str) -> None:
    assert db.query(nx.literal(value)) == value


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(min_size=1, max_size=20))
def test_a_hostile_lookup_value_matches_nothing_and_breaks_nothing(
    db: Database, value: str
) -> None:
    expr = nx.count(nx.select("Lodges").where(nx.eq("Name", value)))
    assert db.query(expr) == (1 if value in ("Kilwinning", "Harmony") else 0)


# ---- errors -----------------------------------------------------------------------------


def test_errors_carry_the_emulators_message(ninox: EmulatedNinox, db: Database) -> None:
    with pytest.raises(NinoxNotFound) as missing:
        db.table("Lodges").get(999)
    assert missing.value.status == 404
    assert missing.value.message
    with pytest.raises(NinoxValidationError) as invalid:
        db.query("select (")
    assert invalid.value.status == 400
    assert invalid.value.message
    with pytest.raises(NinoxValidationError):
        db.table("Grants").create({"Amount": "not a number"})
    bad_key = NinoxClient(token="wrong", base_url=ninox.base_url, transport=ninox.transport)
    with pytest.raises(NinoxAuthError):
        bad_key.teams()
    with pytest.raises(NinoxNotFound):
        make_client(ninox).database(ninox.team_id, "nope").schema()


def test_an_unknown_table_name_is_not_found(db: Database) -> None:
    with pytest.raises(NinoxNotFound):
        db.table("Nope").all()


# ---- faults: retries, Retry-After, the parallel limit -------------------------------------


def test_reads_get_through_injected_503s_and_502s() -> None:
    with emulated_ninox(schema=SCHEMA, records={"Lodges": LODGES}, faults="503=0.3,502=0.2") as n:
        client = make_client(n, retry=RetryPolicy(max_retries=8, total_budget=600))
        table = client.database(n.team_id, n.database_id).table("Lodges")
        for _ in range(10):
            assert len(table.all()) == 2


def test_injected_429s_are_retried_after_the_servers_retry_after() -> None:
    waits: list[float] = []
    with emulated_ninox(schema=SCHEMA, faults="429every=2,retry_after=3") as n:
        client = make_client(n, sleep=waits.append)
        for _ in range(4):
            client.teams()
    assert waits
    assert all(w == 3 for w in waits)


def test_a_write_that_fails_after_committing_is_not_retried() -> None:
    with emulated_ninox(schema=SCHEMA, faults="commit_then_fail=1") as n:
        grants = make_client(n).database(n.team_id, n.database_id).table("Grants")
        with pytest.raises(NinoxServerError):
            grants.create({"Reference": "APP-once"})
        n.emulator.faults.configure("")
        assert len(grants.all(filters={"Reference": "APP-once"})) == 1  # written exactly once


def test_threads_sharing_a_key_never_trip_the_parallel_limit() -> None:
    with emulated_ninox(schema=SCHEMA, faults="parallel_limit=1,latency=5ms") as n:
        client = make_client(n, retry=RetryPolicy(max_retries=0))
        errors: list[Exception] = []

        def work() -> None:
            try:
                for _ in range(5):
                    client.teams()
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert n.emulator.faults.injected.get("parallel_limit", 0) == 0


def test_an_exhausted_quota_is_a_quota_error_and_not_retried() -> None:
    with emulated_ninox(schema=SCHEMA, faults="quota=2") as n:
        client = make_client(n)
        client.teams()
        client.teams()
        with pytest.raises((NinoxQuotaExceeded, NinoxRateLimited)) as caught:
            client.teams()
        assert isinstance(caught.value, NinoxQuotaExceeded)
        assert n.emulator.calls == 3  # the refused call was not repeated


# ---- sync -------------------------------------------------------------------------------


def mirrored_demo(n: EmulatedNinox, **options: Any) -> tuple[Database, Mirror, Mirror, SyncEngine]:
    """The demo database, a Lodges and a Grants mirror, and an engine (``options``) to fill them."""
    db = make_client(n).database(n.team_id, n.database_id)
    lodges, grants = Mirror(), Mirror()
    mirrors = {"Lodges": lodges, "Grants": grants}
    return db, lodges, grants, SyncEngine(db, InMemorySyncStateStore(), mirrors, **options)


def change_one_of_each(db: Database, grants: Mirror) -> tuple[int, int, int]:
    """Update one mirrored grant, create one and delete another: (updated, created, deleted)."""
    table = db.table("Grants")
    some_id = next(iter(grants.rows))
    table.update(some_id, {"Purpose": "changed"})
    new = table.create({"Reference": "NEW-1", "Amount": Decimal("10.00")})
    gone = next(i for i in grants.rows if i not in (some_id, new.id))
    table.delete(gone)
    return some_id, new.id, gone


def test_sync_against_the_demo_database() -> None:
    with demo_ninox(seed=7) as n:
        # every incremental run reconciles, for the test
        db, lodges, grants, engine = mirrored_demo(n, reconcile_every=dt.timedelta(0))
        first = engine.sync()
        assert len(lodges.rows) == db.query(nx.count(nx.select("Lodges")))
        assert len(grants.rows) == db.query(nx.count(nx.select("Grants")))
        assert first.mode == "records"

        some_id, new_id, gone = change_one_of_each(db, grants)
        result = engine.sync()
        assert result.deleted == 1  # records?sinceSq= cannot show a delete: the reconciliation did
        assert grants.rows[some_id]["Purpose"] == "changed"
        assert new_id in grants.rows
        assert gone not in grants.rows


def test_sync_with_the_feed_against_the_demo_database() -> None:
    with demo_ninox(seed=7) as n:
        db, _lodges, grants, engine = mirrored_demo(n, profile=CapabilityProfile(change_feed=True))
        engine.sync()
        assert engine.sync().mode == "feed"
        assert engine.sync().calls == 1  # nothing new: one feed call

        some_id, new_id, gone = change_one_of_each(db, grants)
        result = engine.sync()
        assert (result.created, result.updated, result.deleted, result.calls) == (1, 1, 1, 1)
        assert grants.rows[some_id]["Purpose"] == "changed"
        assert new_id in grants.rows
        assert gone not in grants.rows
