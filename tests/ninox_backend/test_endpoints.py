"""Every endpoint of ninox-api.md has a client method; each is checked against canned replies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninox_fakes import DB, TABLES, FakeNinox, body, record, reply

from ninox_backend import Appointment, DatabaseInfo, FileInfo, Location, Team

TABLE = DB + "/tables/B"
RECORDS = TABLE + "/records"
UTC = dt.UTC


def grants(fake: FakeNinox):  # type: ignore[no-untyped-def]
    return fake.client().database("t1", "db1").table("Grants")


def test_teams_lists_every_team() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(200, [{"id": "t1", "name": "Grand Lodge"}]))
    assert fake.client().teams() == [Team("t1", "Grand Lodge")]


def test_team_reads_one_team() -> None:
    fake = FakeNinox().add("GET", "/teams/t1", reply(200, {"id": "t1", "name": "Grand Lodge"}))
    assert fake.client().team("t1") == Team("t1", "Grand Lodge")


def test_databases_lists_a_teams_databases() -> None:
    fake = FakeNinox().add("GET", "/teams/t1/databases", reply(200, [{"id": "db1", "name": "G"}]))
    assert fake.client().databases("t1") == [DatabaseInfo("db1", "G")]


def test_tables_lists_tables_with_typed_fields() -> None:
    fake = FakeNinox().add("GET", DB + "/tables", reply(200, TABLES))
    (lodges,) = fake.client().database("t1", "db1").tables()
    assert (lodges.id, lodges.name, lodges.fields[0].name, lodges.fields[0].type) == (
        "A",
        "Lodges",
        "Number",
        "number",
    )


def test_table_info_reads_one_table() -> None:
    fake = FakeNinox().add(
        "GET",
        DB + "/tables/Lodges",
        reply(
            200,
            {
                "id": "A",
                "name": "Lodges",
                "fields": [{"id": "B", "name": "Name", "type": "text", "required": True}],
            },
        ),
    )
    info = fake.client().database("t1", "db1").table_info("Lodges")
    assert info.id == "A"
    assert info.field("Name").required is True


def test_get_reads_one_record_with_converted_values() -> None:
    fake = FakeNinox().add(
        "GET",
        RECORDS + "/10",
        reply(
            200,
            record(
                10,
                seq=45,
                Amount=Decimal("13.42"),
                **{"Grant Date": "2026-05-01", "Paid At": "2026-05-01T12:30:00"},
                Lodge=3,
                Status="Paid",
                Tags=["A", "B"],
                Start="12:30:00",
                Duration="1:30:00",
                Meeting="2026-05-01T12:30:00 - 2026-05-01T13:30:00",
                Place="Lodge Hall <52.53,13.39>",
                Colour="#ff0000",
            ),
        ),
    )
    rec = grants(fake).get(10)
    assert (rec.id, rec.sequence) == (10, 45)
    assert rec["Amount"] == Decimal("13.42")
    assert rec["Grant Date"] == dt.date(2026, 5, 1)
    assert rec["Paid At"] == dt.datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
    assert rec["Lodge"] == 3
    assert rec["Status"] == "Paid"
    assert rec["Tags"] == ["A", "B"]
    assert rec["Start"] == dt.time(12, 30)
    assert rec["Duration"] == dt.timedelta(hours=1, minutes=30)
    assert rec["Meeting"] == Appointment(
        dt.datetime(2026, 5, 1, 12, 30, tzinfo=UTC), dt.datetime(2026, 5, 1, 13, 30, tzinfo=UTC)
    )
    assert rec["Place"] == Location("Lodge Hall", Decimal("52.53"), Decimal("13.39"))
    assert rec["Colour"] == "#ff0000"


def test_first_posts_the_filters_to_the_lookup_endpoint() -> None:
    fake = FakeNinox().add(
        "POST", TABLE + "/record", reply(200, record(4, Reference="APP-1", Amount=Decimal("5")))
    )
    rec = grants(fake).first(filters={"Reference": "APP-1", "Amount": Decimal("5.00")})
    assert rec is not None
    assert rec.id == 4
    assert body(fake.calls("POST", TABLE + "/record")[0]) == {
        "filters": {"K": "APP-1", "A": Decimal("5.00")}
    }
    assert fake.calls("POST", RECORDS) == []  # a lookup never goes to the create endpoint


def test_first_returns_none_when_nothing_matches() -> None:
    fake = FakeNinox().add("POST", TABLE + "/record", reply(404, {"message": "no match"}))
    assert grants(fake).first(filters={"Reference": "nope"}) is None


def test_first_can_use_the_get_form_of_the_lookup() -> None:
    fake = FakeNinox().add("GET", RECORDS, reply(200, [record(4, **{"Grant Date": "2026-05-01"})]))
    found = grants(fake).first({"Grant Date": dt.date(2026, 5, 1)}, form="get-records-filters")
    assert found is not None
    assert found.id == 4
    params = fake.calls("GET", RECORDS)[0].url.params
    assert params["filters"] == '{"B":"2026-05-01"}'


def test_create_sends_converted_fields_and_returns_the_new_record() -> None:
    fake = FakeNinox().add("POST", RECORDS, reply(200, [record(11, Amount=Decimal("500.00"))]))
    paid_at = dt.datetime(2026, 5, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rec = grants(fake).create(
        {"Amount": Decimal("500.00"), "Grant Date": dt.date(2026, 5, 1), "Paid At": paid_at}
    )
    assert rec.id == 11
    assert body(fake.calls("POST", RECORDS)[0]) == [
        {
            "fields": {
                "Amount": Decimal("500.00"),
                "Grant Date": "2026-05-01",
                "Paid At": "2026-05-01T12:30:00",
            }
        }
    ]


def test_create_accepts_a_single_object_reply() -> None:
    fake = FakeNinox().add("POST", RECORDS, reply(200, record(12)))
    assert grants(fake).create({"Amount": 1}).id == 12


def test_save_many_creates_and_updates_in_request_order() -> None:
    fake = FakeNinox().add("POST", RECORDS, reply(200, [record(13), record(7)]))
    saved = grants(fake).save_many([{"fields": {"Amount": 1}}, {"id": 7, "fields": {"Amount": 2}}])
    assert [r.id for r in saved] == [13, 7]
    assert body(fake.calls("POST", RECORDS)[0]) == [
        {"fields": {"Amount": 1}},
        {"id": 7, "fields": {"Amount": 2}},
    ]


def test_save_many_of_nothing_makes_no_call() -> None:
    fake = FakeNinox()
    assert grants(fake).save_many([]) == []
    assert fake.api_calls() == []


def test_update_puts_only_the_given_fields() -> None:
    fake = FakeNinox().add("PUT", RECORDS + "/7", reply(200, record(7, Status="Paid")))
    rec = grants(fake).update(7, {"Status": "Paid"})
    assert rec["Status"] == "Paid"
    assert body(fake.calls("PUT")[0]) == {"fields": {"Status": "Paid"}}


def test_delete_removes_one_record() -> None:
    fake = FakeNinox().add("DELETE", RECORDS + "/7", reply(200))
    grants(fake).delete(7)
    assert len(fake.calls("DELETE", RECORDS + "/7")) == 1


def test_delete_many_sends_the_ids_in_the_body() -> None:
    fake = FakeNinox().add("DELETE", RECORDS, reply(200))
    grants(fake).delete_many([1, 2, 3])
    assert body(fake.calls("DELETE", RECORDS)[0]) == [1, 2, 3]


def test_files_lists_a_records_files() -> None:
    fake = FakeNinox().add(
        "GET", RECORDS + "/7/files", reply(200, [{"name": "letter.pdf", "size": 4}])
    )
    assert grants(fake).files(7) == [FileInfo("letter.pdf", 4)]


def test_download_returns_the_bytes() -> None:
    fake = FakeNinox().add(
        "GET",
        RECORDS + "/7/files/letter%20one.pdf",
        reply(200, text="%PDF", **{"Content-Type": "application/pdf"}),
    )
    assert grants(fake).download(7, "letter one.pdf") == b"%PDF"


def test_upload_sends_multipart_with_the_field_name() -> None:
    fake = FakeNinox().add("POST", RECORDS + "/7/files", reply(200, {"name": "letter.pdf"}))
    info = grants(fake).upload(7, "letter.pdf", b"%PDF-1.4", field="Letter")
    assert info.name == "letter.pdf"
    request = fake.calls("POST", RECORDS + "/7/files")[0]
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    content = request.read()
    assert b'name="file"; filename="letter.pdf"' in content
    assert b"%PDF-1.4" in content
    assert b'name="fieldName"' in content
    assert b"Letter" in content


def test_upload_without_a_field_is_an_attachment() -> None:
    fake = FakeNinox().add("POST", RECORDS + "/7/files", reply(200, {"name": "a.txt"}))
    grants(fake).upload(7, "a.txt", b"hi")
    assert b"fieldName" not in fake.calls("POST", RECORDS + "/7/files")[0].read()


def test_delete_file_removes_it() -> None:
    fake = FakeNinox().add("DELETE", RECORDS + "/7/files/a.txt", reply(200))
    grants(fake).delete_file(7, "a.txt")
    assert len(fake.api_calls()) == 1


def test_file_metadata_and_thumbnail() -> None:
    fake = FakeNinox()
    fake.add("GET", RECORDS + "/7/files/a.png/metadata", reply(200, {"name": "a.png", "size": 3}))
    fake.add("GET", RECORDS + "/7/files/a.png/thumb.jpg", reply(200, text="JPG"))
    assert grants(fake).file_metadata(7, "a.png")["size"] == 3
    assert grants(fake).thumbnail(7, "a.png") == b"JPG"


def test_query_posts_nx_and_returns_exact_numbers() -> None:
    fake = FakeNinox().add("POST", DB + "/query", reply(200, Decimal("1234.56")))
    from ninox_backend import nx

    expr = nx.sum_(nx.select("Grants").where(nx.eq(nx.field("Lodge", "Number"), 123)), "Amount")
    assert fake.client().database("t1", "db1").query(expr) == Decimal("1234.56")
    assert body(fake.calls("POST", DB + "/query")[0]) == {
        "query": "sum((select Grants where Lodge.Number = 123).Amount)"
    }


def test_query_can_use_get() -> None:
    fake = FakeNinox().add("GET", DB + "/query", reply(200, ["B1", "B2"]))
    assert fake.client().database("t1", "db1").query_get("select Grants") == ["B1", "B2"]
    assert fake.calls("GET", DB + "/query")[0].url.params["query"] == "select Grants"


def test_exec_posts_nx_that_may_write() -> None:
    fake = FakeNinox().add("POST", DB + "/exec", reply(200, "B14"))
    assert fake.client().database("t1", "db1").exec("let r := (create Grants); r") == "B14"
    assert body(fake.calls("POST", DB + "/exec")[0]) == {"query": "let r := (create Grants); r"}
