"""Writing records: batches (atomic, in order), PUT, deletes, validation of values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ninox_backend.emulator import Emulator


def count(api: httpx.Client, table: str) -> int:
    return len(api.get(f"/tables/{table}/records").json())


def test_a_batch_creates_and_updates_in_request_order(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    body = [
        {"fields": {"Number": 10}},
        {"id": 2, "fields": {"Name": "Second, renamed"}},
        {"fields": {"Number": 11}},
    ]
    response = api.post("/tables/Lodges/records", json=body)
    assert response.status_code == 200, response.text
    replies = response.json()
    assert [r["id"] for r in replies] == [3, 2, 4]
    assert replies[1]["fields"] == {"Number": 2, "Name": "Second, renamed"}
    assert [r["sequence"] for r in replies] == [3, 4, 5]


def test_a_single_object_is_accepted_and_answered_as_an_array(api: httpx.Client) -> None:
    response = api.post("/tables/Lodges/records", json={"fields": {"Number": 1}})
    assert [r["fields"] for r in response.json()] == [{"Number": 1}]


def test_one_bad_item_writes_nothing(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(1)
    body = [
        {"fields": {"Number": 2}},
        {"id": 1, "fields": {"Name": "changed"}},
        {"fields": {"Number": "abc"}},
    ]
    response = api.post("/tables/Lodges/records", json=body)
    assert response.status_code == 422
    assert "item 2" in response.json()["message"]
    assert "Number" in response.json()["message"]
    assert count(api, "Lodges") == 1
    assert api.get("/tables/Lodges/records/1").json()["fields"]["Name"] == "Lodge 1"


def test_a_batch_updating_a_missing_record_writes_nothing(api: httpx.Client) -> None:
    response = api.post(
        "/tables/Lodges/records", json=[{"fields": {"Number": 1}}, {"id": 99, "fields": {}}]
    )
    assert response.status_code == 404
    assert count(api, "Lodges") == 0


def test_a_failed_batch_does_not_move_the_sequence(api: httpx.Client) -> None:
    api.post("/tables/Lodges/records", json=[{"fields": {"Number": 1}}, {"fields": {"X": 1}}])
    created = api.post("/tables/Lodges/records", json={"fields": {"Number": 1}}).json()
    assert created[0]["sequence"] == 1
    assert created[0]["id"] == 1


def test_put_updates_only_the_given_fields(
    api: httpx.Client, add_lodges: Callable[[int], list[int]], clock: object
) -> None:
    add_lodges(1)
    clock.tick(60)  # type: ignore[attr-defined]
    response = api.put("/tables/Lodges/records/1", json={"fields": {"Active": True}})
    record = response.json()
    assert record["fields"] == {"Number": 1, "Name": "Lodge 1", "Active": True}
    assert record["createdAt"] == "2026-07-18T11:19:58"
    assert record["modifiedAt"] == "2026-07-18T11:20:58"


def test_put_with_null_clears_a_field(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(1)
    record = api.put("/tables/Lodges/records/1", json={"fields": {"Name": None}}).json()
    assert record["fields"] == {"Number": 1}


def test_put_on_a_missing_record_is_404(api: httpx.Client) -> None:
    response = api.put("/tables/Lodges/records/5", json={"fields": {"Number": 1}})
    assert response.status_code == 404


def test_delete_removes_one_record(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    assert api.delete("/tables/Lodges/records/1").status_code == 200
    assert api.get("/tables/Lodges/records/1").status_code == 404
    assert count(api, "Lodges") == 1


def test_delete_many_removes_the_listed_records(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(4)
    response = api.request("DELETE", "/tables/Lodges/records", json=[1, 3])
    assert response.status_code == 200
    assert [r["id"] for r in api.get("/tables/Lodges/records").json()] == [2, 4]


def test_delete_many_with_an_unknown_id_deletes_nothing(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    response = api.request("DELETE", "/tables/Lodges/records", json=[1, 7])
    assert response.status_code == 404
    assert count(api, "Lodges") == 2


def test_ids_are_not_reused_after_a_delete(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    api.delete("/tables/Lodges/records/2")
    created = api.post("/tables/Lodges/records", json={"fields": {}}).json()
    assert created[0]["id"] == 3


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"Amount": "abc"}, "Amount"),
        ({"Grant Date": "2026-13-01"}, "Grant Date"),
        ({"Grant Date": "01/05/2026"}, "Grant Date"),
        ({"Status": "Rejected"}, "Status"),
        ({"Lodge": 42}, "Lodge"),
        ({"Note": 5}, "Note"),
    ],
)
def test_a_value_of_the_wrong_type_is_422_naming_the_field(
    api: httpx.Client, add_lodges: Callable[[int], list[int]], fields: dict, named: str
) -> None:
    add_lodges(1)
    response = api.post("/tables/Grants/records", json={"fields": fields})
    assert response.status_code == 422
    assert named in response.json()["message"]


def test_an_unknown_field_is_400_naming_it(api: httpx.Client) -> None:
    response = api.post("/tables/Lodges/records", json={"fields": {"Colour": "blue"}})
    assert response.status_code == 400
    assert "Colour" in response.json()["message"]


def test_fields_can_be_written_by_id(api: httpx.Client) -> None:
    record = api.post("/tables/A/records", json={"fields": {"A": 5, "B": "Five"}}).json()[0]
    assert record["fields"] == {"Number": 5, "Name": "Five"}


def test_every_value_type_round_trips() -> None:
    emu = Emulator(token="k", dialect="legacy")
    emu.add_team("t", "T")
    emu.add_database("t", "d", "D")
    types = {
        "text": "hello",
        "email": "a@example.org",
        "phone": "+1 555 0100",
        "url": "https://example.org",
        "html": "<p>hi</p>",
        "number": 13.42,
        "date": "2026-05-01",
        "datetime": "2026-05-01T12:30:00",
        "time": "12:30:00",
        "timeinterval": "123:25:16.123",
        "appointment": "2026-05-01T12:30:00 - 2026-05-01T13:30:00",
        "boolean": True,
        "location": "Address <52.53,13.39>",
    }
    fields: list[dict[str, Any]] = [{"name": name, "type": name} for name in types]
    fields.append({"name": "choice", "type": "choice", "options": ["A", "B"]})
    fields.append({"name": "multi", "type": "multi", "options": ["A", "B", "C"]})
    fields.append({"name": "ref", "type": "reference", "table": "Things"})
    emu.add_table("t", "d", "Things", fields)
    values = {**types, "choice": "B", "multi": ["A", "C"], "ref": 1}
    with httpx.Client(
        transport=emu.transport(), base_url="http://e/v1/teams/t/databases/d"
    ) as client:
        client.headers["Authorization"] = "Bearer k"
        client.post("/tables/Things/records", json={"fields": {"text": "first"}})
        created = client.post("/tables/Things/records", json={"fields": values})
        assert created.status_code == 200, created.text
        assert client.get("/tables/Things/records/2").json()["fields"] == values


def test_a_datetime_with_a_zone_is_stored_in_utc(api: httpx.Client, emu: Emulator) -> None:
    emu.add_table("t1", "db1", "Events", [{"name": "At", "type": "datetime"}])
    record = api.post(
        "/tables/Events/records", json={"fields": {"At": "2026-05-01T07:30:00-05:00"}}
    ).json()[0]
    assert record["fields"]["At"] == "2026-05-01T12:30:00"
