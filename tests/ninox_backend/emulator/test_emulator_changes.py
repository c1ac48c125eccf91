"""Change feeds: database, table and record; exclusive, with deletes."""

from __future__ import annotations

from collections.abc import Callable

import httpx


def ops(feed: dict) -> list[tuple[str, int, str]]:
    return [(c["table"], c["id"], c["op"]) for c in feed["changes"]]


def test_the_database_feed_lists_changes_of_every_table(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    api.post("/tables/Grants/records", json={"fields": {"Lodge": 1, "Amount": 5}})
    feed = api.get("/changes", params={"sinceSq": 0}).json()
    assert feed["seq"] == 3
    assert ops(feed) == [("A", 1, "create"), ("A", 2, "create"), ("B", 1, "create")]
    assert [c["seq"] for c in feed["changes"]] == [1, 2, 3]
    assert feed["changes"][2]["record"]["fields"] == {"Lodge": 1, "Amount": 5}


def test_the_feed_is_exclusive_of_since_sq(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    feed = api.get("/changes", params={"sinceSq": 2}).json()
    assert ops(feed) == [("A", 3, "create")]


def test_with_nothing_new_the_feed_is_empty_and_gives_the_current_seq(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    assert api.get("/changes", params={"sinceSq": 3}).json() == {"seq": 3, "changes": []}


def test_the_feed_shows_updates_and_deletes_once_per_record(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(3)
    api.put("/tables/Lodges/records/1", json={"fields": {"Name": "a"}})
    api.put("/tables/Lodges/records/1", json={"fields": {"Name": "b"}})
    api.delete("/tables/Lodges/records/2")
    feed = api.get("/changes", params={"sinceSq": 3}).json()
    assert ops(feed) == [("A", 1, "update"), ("A", 2, "delete")]
    assert feed["changes"][0]["record"]["fields"]["Name"] == "b"
    assert feed["changes"][1]["record"] is None
    assert feed["seq"] == 6


def test_the_table_feed_lists_only_that_table(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(1)
    api.post("/tables/Grants/records", json={"fields": {"Amount": 1}})
    assert ops(api.get("/tables/Grants/changes", params={"sinceSq": 0}).json()) == [
        ("B", 1, "create")
    ]


def test_the_record_feed_lists_only_that_record(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    api.put("/tables/Lodges/records/2", json={"fields": {"Active": True}})
    feed = api.get("/tables/Lodges/records/2/changes", params={"sinceSq": 0}).json()
    assert ops(feed) == [("A", 2, "update")]
    assert api.get("/tables/Lodges/records/9/changes").status_code == 404


def test_the_feed_of_a_deleted_record_shows_the_delete(
    api: httpx.Client, add_lodges: Callable[[int], list[int]]
) -> None:
    add_lodges(2)
    api.delete("/tables/Lodges/records/1")
    feed = api.get("/tables/Lodges/records/1/changes", params={"sinceSq": 2}).json()
    assert ops(feed) == [("A", 1, "delete")]
