"""The schema cache: names ↔ ids, types, max age, refresh on change."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from ninox_fakes import DB, SCHEMA, TABLES, FakeNinox, record, reply

from ninox_backend import NinoxNotFound, Schema

RECORDS = DB + "/tables/B/records"


def test_the_schema_maps_names_ids_and_types() -> None:
    schema = FakeNinox().client().database("t1", "db1").schema()
    assert (schema.version, schema.seq) == (7, 40)
    assert [t.name for t in schema.tables] == ["Lodges", "Grants"]  # pages are left out
    grants = schema.table("Grants")
    assert grants is schema.table("B")
    amount = grants.field("Amount")
    assert (amount.id, amount.type) == ("A", "number")
    assert grants.field("C").ref_table == "A"
    assert grants.field("Status").choices == {"1": "Open", "2": "Paid"}
    assert grants.field("Paid At").type == "datetime"
    assert grants.field("Total").type == "formula"
    assert grants.field("Total").formula == "Amount * 2"
    assert schema.table("Lodges").field("Number").required is True


def test_unknown_tables_and_fields_raise_not_found() -> None:
    schema = FakeNinox().client().database("t1", "db1").schema()
    with pytest.raises(NinoxNotFound):
        schema.table("Nope")
    with pytest.raises(KeyError):
        schema.table("Grants").field("Nope")


def test_the_schema_is_read_once_and_then_served_from_the_cache() -> None:
    fake = FakeNinox().add("GET", RECORDS + "/1", reply(200, record(1)))
    db = fake.client().database("t1", "db1")
    for _ in range(3):
        db.table("Grants").get(1)
    assert len(fake.calls("GET", DB)) == 1


def test_the_schema_is_re_read_after_its_max_age() -> None:
    now = [dt.datetime(2026, 5, 1, tzinfo=dt.UTC)]
    fake = FakeNinox().add("GET", RECORDS + "/1", reply(200, record(1)))
    client = fake.client(now=lambda: now[0], schema_max_age=3600)
    table = client.database("t1", "db1").table("Grants")
    table.get(1)
    now[0] += dt.timedelta(minutes=59)
    table.get(1)
    assert len(fake.calls("GET", DB)) == 1
    now[0] += dt.timedelta(minutes=2)
    table.get(1)
    assert len(fake.calls("GET", DB)) == 2


def test_refresh_forces_a_re_read() -> None:
    fake = FakeNinox()
    db = fake.client().database("t1", "db1")
    db.schema()
    db.schema(refresh=True)
    assert len(fake.calls("GET", DB)) == 2


def test_a_record_with_a_field_the_cache_lacks_triggers_one_schema_re_read() -> None:
    fake = FakeNinox().add("GET", RECORDS + "/1", reply(200, record(1, NewField="x")))
    table = fake.client().database("t1", "db1").table("Grants")
    for _ in range(4):
        assert table.get(1)["NewField"] == "x"
    assert len(fake.calls("GET", DB)) == 2  # re-read once, not on every call


def test_a_table_added_since_the_cache_was_filled_is_found_after_a_re_read() -> None:
    extended = {
        "schema": {
            **SCHEMA["schema"],
            "version": 8,
            "types": {**SCHEMA["schema"]["types"], "D": {"caption": "Payments", "fields": {}}},
        }
    }
    fake = FakeNinox()
    db = fake.client().database("t1", "db1")
    db.schema()
    fake.add("GET", DB, reply(200, extended))
    assert db.table("Payments").id == "D"


def test_without_a_schema_in_the_database_reply_the_tables_endpoint_is_used() -> None:
    fake = FakeNinox(schema=False).add("GET", DB, reply(200, {"settings": {}}))
    fake.add("GET", DB + "/tables", reply(200, TABLES))
    fake.add("GET", DB + "/tables/A/records/1", reply(200, record(1, Number=Decimal("5.0"))))
    rec = fake.client().database("t1", "db1").table("Lodges").get(1)
    assert rec["Number"] == Decimal("5.0")


def test_a_saved_schema_primes_the_cache_without_a_call() -> None:
    fake = FakeNinox(schema=False).add("GET", RECORDS + "/1", reply(200, record(1)))
    client = fake.client()
    db = client.database("t1", "db1")
    db.use_schema(SCHEMA["schema"] and Schema.from_json(SCHEMA), fetched_at=client.now())
    db.table("Grants").get(1)
    assert fake.calls("GET", DB) == []


def test_field_list_of_a_table() -> None:
    fields = FakeNinox().client().database("t1", "db1").table("Lodges").fields()
    assert [(f.name, f.type) for f in fields] == [
        ("Number", "number"),
        ("Name", "text"),
        ("Active", "boolean"),
    ]


def test_recorded_schema_base_names_ref_rev_and_link_mean_reference_reverse_and_url() -> None:
    schema = Schema.from_json(
        {
            "schema": {
                "types": {
                    "A": {
                        "caption": "Lodges",
                        "fields": {
                            "A": {"base": "string", "caption": "Name", "formWidth": Decimal("0.5")},
                            "B": {"base": "link", "caption": "Website"},
                            "C": {"base": "rev", "caption": "Grants", "refTypeId": "B"},
                        },
                    },
                    "B": {
                        "caption": "Grants",
                        "fields": {"A": {"base": "ref", "caption": "Lodge", "refTypeId": "A"}},
                    },
                }
            }
        }
    )
    lodges, grants = schema.table("Lodges"), schema.table("Grants")
    assert lodges.field("Website").type == "url"
    assert lodges.field("Grants").type == "reverse"
    assert lodges.field("Grants").read_only
    assert grants.field("Lodge").type == "reference"
    assert grants.field("Lodge").ref_table == "A"
