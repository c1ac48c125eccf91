"""Change feeds in the emulator's shape and as a bare array of records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from ninox_fakes import DB, FakeNinox, record, reply

from ninox_backend import NinoxSyncError

TABLE = DB + "/tables/B"


def test_the_database_feed_is_parsed_into_typed_changes() -> None:
    feed = {
        "seq": 52,
        "changes": [
            {
                "seq": 50,
                "table": "B",
                "id": 3,
                "op": "create",
                "record": record(3, 50, Amount=Decimal("9.5")),
            },
            {"seq": 51, "table": "A", "id": 2, "op": "update", "record": record(2, 51, Number=12)},
            {"seq": 52, "table": "B", "id": 1, "op": "delete", "record": None},
        ],
    }
    fake = FakeNinox().add("GET", DB + "/changes", reply(200, feed))
    changes = fake.client().database("t1", "db1").changes(since_sq=49)
    assert fake.calls("GET", DB + "/changes")[0].url.params["sinceSq"] == "49"
    assert changes.seq == 52
    assert not changes.bare
    assert [(c.seq, c.table, c.table_id, c.id, c.op) for c in changes.changes] == [
        (50, "Grants", "B", 3, "create"),
        (51, "Lodges", "A", 2, "update"),
        (52, "Grants", "B", 1, "delete"),
    ]
    created = changes.changes[0].record
    assert created is not None
    assert created["Amount"] == Decimal("9.5")
    assert changes.changes[1].record["Number"] == Decimal(12)  # type: ignore[index]
    assert changes.changes[2].record is None


def test_an_empty_feed_keeps_the_servers_seq() -> None:
    fake = FakeNinox().add("GET", DB + "/changes", reply(200, {"seq": 60, "changes": []}))
    changes = fake.client().database("t1", "db1").changes(since_sq=60)
    assert (changes.seq, len(changes)) == (60, 0)


def test_a_bare_array_feed_is_a_list_of_upserts_with_the_max_sequence_as_high_water() -> None:
    fake = FakeNinox().add(
        "GET", TABLE + "/changes", reply(200, [record(3, 57), record(4, 55, Amount=2)])
    )
    changes = fake.client().database("t1", "db1").table("Grants").changes(since_sq=50)
    assert changes.bare
    assert changes.seq == 57
    assert [(c.id, c.op, c.table, c.seq) for c in changes.changes] == [
        (3, "upsert", "Grants", 57),
        (4, "upsert", "Grants", 55),
    ]
    assert changes.changes[1].record["Amount"] == Decimal(2)  # type: ignore[index]


def test_an_empty_bare_array_keeps_the_callers_high_water() -> None:
    fake = FakeNinox().add("GET", TABLE + "/changes", reply(200, []))
    changes = fake.client().database("t1", "db1").table("Grants").changes(since_sq=50)
    assert (changes.seq, changes.changes, changes.bare) == (50, [], True)


def test_record_changes_reads_one_records_history() -> None:
    feed = {
        "seq": 9,
        "changes": [{"seq": 9, "table": "B", "id": 3, "op": "update", "record": record(3, 9)}],
    }
    fake = FakeNinox().add("GET", TABLE + "/records/3/changes", reply(200, feed))
    changes = fake.client().database("t1", "db1").table("Grants").record_changes(3, since_sq=0)
    assert [(c.id, c.op) for c in changes.changes] == [(3, "update")]
    assert fake.calls("GET", TABLE + "/records/3/changes")[0].url.params["sinceSq"] == "0"


def test_a_change_for_an_unknown_table_keeps_what_the_server_said() -> None:
    feed = {
        "seq": 5,
        "changes": [{"seq": 5, "table": "Z", "id": 1, "op": "create", "record": record(1)}],
    }
    fake = FakeNinox().add("GET", DB + "/changes", reply(200, feed))
    (change,) = fake.client().database("t1", "db1").changes(since_sq=0).changes
    assert (change.table, change.table_id) == ("Z", None)


def test_a_feed_naming_a_new_schema_version_drops_the_schema_cache() -> None:
    fake = FakeNinox().add(
        "GET", DB + "/changes", reply(200, {"seq": 5, "schemaVersion": 8, "changes": []})
    )
    db = fake.client().database("t1", "db1")
    db.schema()
    db.changes(since_sq=5)
    assert len(fake.calls("GET", DB)) == 2


def test_the_strict_reading_accepts_a_feed_whose_every_change_it_understands() -> None:
    feed = {
        "seq": 52,
        "changes": [
            {"seq": 50, "table": "Grants", "id": "3", "op": "created", "record": record(3, 50)},
            {"seq": 52, "table": "B", "id": 1, "op": "delete", "record": None},
        ],
    }
    fake = FakeNinox().add("GET", DB + "/changes", reply(200, feed))
    changes = fake.client().database("t1", "db1").changes(since_sq=49, strict=True)
    assert changes.seq == 52
    assert [(c.table, c.id, c.op) for c in changes.changes] == [
        ("Grants", 3, "create"),
        ("Grants", 1, "delete"),
    ]


@pytest.mark.parametrize(
    ("feed", "why"),
    [
        (
            {"seq": 52, "changes": [{"table": "B", "id": 3, "op": "update", "record": record(4)}]},
            "carries 4",
        ),
        (
            {"seq": 52, "changes": [{"table": "B", "id": 3, "op": "update", "record": "B3"}]},
            "not an object",
        ),
        (
            {"changes": [{"table": "B", "id": 3, "op": "delete"}]},
            "neither the feed nor every change",
        ),
        ({"seq": 52, "changes": [{"table": "B", "id": 3, "op": "update", "seq": "x"}]}, "sequence"),
        ({"seq": 52, "changes": [{"table": "B", "id": True, "op": "update"}]}, "integer record id"),
    ],
)
def test_the_strict_reading_refuses_what_it_cannot_apply(feed: dict[str, Any], why: str) -> None:
    fake = FakeNinox().add("GET", DB + "/changes", reply(200, feed))
    with pytest.raises(NinoxSyncError, match=why):
        fake.client().database("t1", "db1").changes(since_sq=49, strict=True)
