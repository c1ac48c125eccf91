"""Listing records: paging, since-filters, ordering, filters, ids and styles."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from ninox_backend.emulator import Emulator


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


def test_an_empty_table_lists_as_an_empty_array(api: httpx.Client) -> None:
    response = api.get("/tables/Lodges/records")
    assert response.status_code == 200
    assert response.json() == []


def test_per_page_defaults_to_100(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(150)
    assert len(ids(api.get("/tables/Lodges/records"))) == 100


def test_an_exact_multiple_of_per_page_ends_with_an_empty_page(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(20)
    pages = [ids(api.get("/tables/A/records", params={"page": p, "perPage": 10})) for p in range(3)]
    assert pages[0] == list(range(1, 11))
    assert pages[1] == list(range(11, 21))
    assert pages[2] == []


def test_a_page_beyond_the_end_is_empty(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(5)
    assert ids(api.get("/tables/Lodges/records", params={"page": 7, "perPage": 2})) == []


def test_per_page_is_capped_at_1000(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": n} for n in range(1200)])
    assert len(ids(api.get("/tables/Lodges/records", params={"perPage": 5000}))) == 1000


def test_a_negative_page_is_a_bad_request(api: httpx.Client) -> None:
    response = api.get("/tables/Lodges/records", params={"page": -1})
    assert response.status_code == 400
    assert "page" in response.json()["message"]


def test_since_id_returns_greater_ids(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(6)
    assert ids(api.get("/tables/Lodges/records", params={"sinceId": 4})) == [5, 6]


def test_since_sq_is_exclusive(api: httpx.Client, add_lodges: Callable[[int], list[int]]) -> None:
    add_lodges(3)
    records = api.get("/tables/Lodges/records").json()
    second = records[1]["sequence"]
    assert ids(api.get("/tables/Lodges/records", params={"sinceSq": second})) == [3]


def test_since_sq_includes_records_updated_after_it(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    high_water = max(r["sequence"] for r in api.get("/tables/Lodges/records").json())
    api.put("/tables/Lodges/records/1", json={"fields": {"Name": "Renamed"}})
    changed = api.get("/tables/Lodges/records", params={"sinceSq": high_water}).json()
    assert [(r["id"], r["fields"]["Name"]) for r in changed] == [(1, "Renamed")]
    assert changed[0]["sequence"] == high_water + 1


def test_since_sq_after_a_delete_lists_nothing_but_the_feed_has_it(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    high_water = max(r["sequence"] for r in api.get("/tables/Lodges/records").json())
    api.delete("/tables/Lodges/records/2")
    assert ids(api.get("/tables/Lodges/records", params={"sinceSq": high_water})) == []
    feed = api.get("/tables/Lodges/changes", params={"sinceSq": high_water}).json()
    assert [(c["id"], c["op"], c["record"]) for c in feed["changes"]] == [(2, "delete", None)]


def test_order_sorts_numbers_as_numbers(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": n} for n in (10, 9, 100, "2.5")])
    listed = api.get("/tables/Lodges/records", params={"order": "Number"}).json()
    assert [r["fields"]["Number"] for r in listed] == [2.5, 9, 10, 100]


def test_desc_reverses_the_order(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Name": n} for n in ("b", "a", "c")])
    listed = api.get("/tables/Lodges/records", params={"order": "Name", "desc": "true"}).json()
    assert [r["fields"]["Name"] for r in listed] == ["c", "b", "a"]


def test_desc_without_order_lists_highest_ids_first(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    assert ids(api.get("/tables/Lodges/records", params={"desc": "true"})) == [3, 2, 1]


def test_new_lists_newest_first(api: httpx.Client, add_lodges: Callable[[int], list[int]]) -> None:
    add_lodges(3)
    assert ids(api.get("/tables/Lodges/records", params={"new": "true"})) == [3, 2, 1]


def test_updated_lists_the_last_modified_first(
    api: httpx.Client, add_lodges: Callable[[int], list[int]], clock: object
) -> None:
    add_lodges(3)
    clock.tick(5)  # type: ignore[attr-defined]
    api.put("/tables/Lodges/records/2", json={"fields": {"Active": True}})
    assert ids(api.get("/tables/Lodges/records", params={"updated": "true"}))[0] == 2


def test_filters_match_by_field_name_or_id(emu: Emulator, api: httpx.Client) -> None:
    emu.insert(
        "t1", "db1", "Lodges", [{"Number": 1, "Active": True}, {"Number": 2, "Active": False}]
    )
    by_name = api.get("/tables/Lodges/records", params={"filters": json.dumps({"Active": False})})
    by_id = api.get("/tables/A/records", params={"filters": json.dumps({"C": False})})
    assert ids(by_name) == ids(by_id) == [2]


def test_filters_compare_numbers_exactly_and_choices_by_caption(
    emu: Emulator, api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(1)
    emu.insert(
        "t1",
        "db1",
        "Grants",
        [
            {"Lodge": 1, "Amount": "100.50", "Status": "Paid"},
            {"Lodge": 1, "Amount": 100.5, "Status": "Cancelled"},
            {"Lodge": 1, "Amount": 7, "Status": "Paid"},
        ],
    )
    paid = api.get("/tables/Grants/records", params={"filters": '{"Status": "Paid"}'})
    assert ids(paid) == [1, 3]
    amount = api.get("/tables/Grants/records", params={"filters": '{"Amount": 100.50}'})
    assert ids(amount) == [1, 2]


def test_a_filter_on_an_unknown_field_is_a_bad_request(api: httpx.Client) -> None:
    response = api.get("/tables/Lodges/records", params={"filters": '{"Nope": 1}'})
    assert response.status_code == 400
    assert "Nope" in response.json()["message"]


def test_ids_selects_records(api: httpx.Client, add_lodges: Callable[[int], list[int]]) -> None:
    add_lodges(5)
    assert ids(api.get("/tables/Lodges/records", params={"ids": "4,2,99"})) == [2, 4]


def test_style_ids_keys_fields_by_field_id(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(1)
    record = api.get("/tables/Lodges/records/1", params={"style": "ids"}).json()
    assert record["fields"] == {"A": 1, "B": "Lodge 1"}


def test_choice_style_ids_gives_choice_ids(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": 1}])
    emu.insert("t1", "db1", "Grants", [{"Lodge": 1, "Status": "Cancelled"}])
    plain = api.get("/tables/Grants/records/1").json()
    by_id = api.get("/tables/Grants/records/1", params={"choiceStyle": "ids"}).json()
    assert plain["fields"]["Status"] == "Cancelled"
    assert by_id["fields"]["Status"] == 3


def test_a_record_has_the_documented_shape(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": 0, "Name": "X", "Active": False}])
    record = api.get("/tables/Lodges/records/1").json()
    assert record == {
        "id": 1,
        "sequence": 1,
        "createdAt": "2026-07-18T11:19:58",
        "createdBy": "u1",
        "modifiedAt": "2026-07-18T11:19:58",
        "modifiedBy": "u1",
        "fields": {"Number": 0, "Name": "X", "Active": False},
    }


def test_null_fields_are_left_out(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": 3, "Name": None}])
    assert api.get("/tables/Lodges/records/1").json()["fields"] == {"Number": 3}


def test_numbers_come_back_exact(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": 1}])
    emu.insert("t1", "db1", "Grants", [{"Lodge": 1, "Amount": "1250.10"}])
    response = api.get("/tables/Grants/records/1")
    assert '"Amount":1250.1' in response.text


def test_lookup_by_query_filters_returns_the_first_match(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    response = api.get("/tables/Lodges/record", params={"filters": '{"Number": 2}'})
    assert response.status_code == 200
    assert response.json()["id"] == 2


def test_lookup_by_post_returns_the_first_match(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    response = api.post("/tables/Lodges/record", json={"filters": {"Name": "Lodge 3"}})
    assert response.json()["id"] == 3


def test_a_lookup_without_a_match_is_404(api: httpx.Client) -> None:
    response = api.post("/tables/Lodges/record", json={"filters": {"Number": 404}})
    assert response.status_code == 404
    assert "message" in response.json()
