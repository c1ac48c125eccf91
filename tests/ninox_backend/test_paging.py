"""Paging with page/perPage: lazy, stops on a short page, never loops on a repeated page."""

from __future__ import annotations

import httpx
import pytest
from ninox_fakes import DB, FakeNinox, record, reply

from ninox_backend import NinoxPagingError

RECORDS = DB + "/tables/B/records"


def paged(total: int, *, ignore_page: bool = False):  # type: ignore[no-untyped-def]
    """A handler serving ``total`` records page by page (or always page 0)."""

    def handle(request: httpx.Request) -> httpx.Response:
        page = 0 if ignore_page else int(request.url.params.get("page", 0))
        per_page = int(request.url.params.get("perPage", 100))
        ids = range(page * per_page + 1, min(total, (page + 1) * per_page) + 1)
        return reply(200, [record(i, seq=i) for i in ids])

    return handle


def test_all_reads_every_page_and_stops_on_the_short_one() -> None:
    fake = FakeNinox().add("GET", RECORDS, paged(250))
    records = fake.client().database("t1", "db1").table("Grants").all(per_page=100)
    assert [r.id for r in records] == list(range(1, 251))
    pages = [int(r.url.params["page"]) for r in fake.calls("GET", RECORDS)]
    assert pages == [0, 1, 2]
    assert {r.url.params["perPage"] for r in fake.calls("GET", RECORDS)} == {"100"}


def test_an_exact_multiple_costs_one_empty_page_more() -> None:
    fake = FakeNinox().add("GET", RECORDS, paged(200))
    assert len(fake.client().database("t1", "db1").table("Grants").all(per_page=100)) == 200
    assert len(fake.calls("GET", RECORDS)) == 3


def test_iter_records_is_lazy() -> None:
    fake = FakeNinox().add("GET", RECORDS, paged(1000))
    records = fake.client().database("t1", "db1").table("Grants").iter_records(per_page=10)
    assert next(records).id == 1
    assert len(fake.calls("GET", RECORDS)) == 1


def test_a_repeated_page_ends_paging_with_an_error_not_a_loop() -> None:
    fake = FakeNinox().add("GET", RECORDS, paged(1000, ignore_page=True))
    table = fake.client().database("t1", "db1").table("Grants")
    with pytest.raises(NinoxPagingError) as caught:
        table.all(per_page=10)
    assert len(fake.calls("GET", RECORDS)) == 2
    assert "repeats" in str(caught.value)
    assert caught.value.path.endswith("/tables/B/records")


def test_query_parameters_are_sent_as_ninox_names() -> None:
    fake = FakeNinox().add("GET", RECORDS, reply(200, []))
    table = fake.client().database("t1", "db1").table("Grants")
    table.all(
        per_page=50,
        since_sq=44,
        since_id=7,
        order="Amount",
        desc=True,
        filters={"Status": "Paid"},
        ids=[1, 2],
    )
    params = fake.calls("GET", RECORDS)[0].url.params
    assert dict(params) == {
        "page": "0",
        "perPage": "50",
        "order": "Amount",
        "desc": "true",
        "sinceSq": "44",
        "sinceId": "7",
        "filters": '{"D":"Paid"}',  # keyed by field id, as both documents show
        "ids": "1,2",
    }


def test_records_are_addressed_by_table_id_even_when_asked_by_name() -> None:
    fake = FakeNinox().add("GET", RECORDS, reply(200, []))
    fake.client().database("t1", "db1").table("Grants").all()
    assert fake.calls("GET", RECORDS)


def test_a_server_that_caps_per_page_is_still_read_to_the_end() -> None:
    def capped(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        ids = range(page * 100 + 1, min(250, (page + 1) * 100) + 1)  # ignores perPage=500
        return reply(200, [record(i) for i in ids])

    fake = FakeNinox().add("GET", RECORDS, capped)
    records = fake.client().database("t1", "db1").table("Grants").all(per_page=500)
    assert len(records) == 250


def capped_at(cap: int, total: int):  # type: ignore[no-untyped-def]
    """A server that sends at most ``cap`` records a page, whatever ``perPage`` asks."""

    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        size = min(cap, int(request.url.params["perPage"]))
        ids = range(page * size + 1, min(total, (page + 1) * size) + 1)
        return reply(200, [record(i, seq=i) for i in ids])

    return handle


@pytest.mark.parametrize("cap", [120, 250, 300])
def test_a_cap_that_is_not_a_round_number_is_still_read_to_the_end(cap: int) -> None:
    fake = FakeNinox().add("GET", RECORDS, capped_at(cap, 1000))
    records = fake.client().database("t1", "db1").table("Grants").all(per_page=500)
    assert [r.id for r in records] == list(range(1, 1001))


def test_a_page_shorter_than_the_documented_default_is_the_last() -> None:
    fake = FakeNinox().add("GET", RECORDS, capped_at(500, 99))
    assert len(fake.client().database("t1", "db1").table("Grants").all(per_page=500)) == 99
    assert len(fake.calls("GET", RECORDS)) == 1


def test_a_page_short_of_the_asked_size_but_not_of_the_default_is_not_the_last() -> None:
    # 199 of 500 asked may be the server's cap: only an empty page settles it.
    fake = FakeNinox().add("GET", RECORDS, capped_at(500, 199))
    assert len(fake.client().database("t1", "db1").table("Grants").all(per_page=500)) == 199
    assert len(fake.calls("GET", RECORDS)) == 2


def test_a_cap_below_the_default_shown_by_the_doctor_is_read_to_the_end() -> None:
    fake = FakeNinox().add("GET", RECORDS, capped_at(75, 200))
    table = fake.client().database("t1", "db1").table("Grants")
    assert len(table.all(per_page=100, server_cap=75)) == 200
    assert [int(r.url.params["page"]) for r in fake.calls("GET", RECORDS)] == [0, 1, 2]


def test_a_small_asked_page_size_stops_on_its_own_short_page() -> None:
    fake = FakeNinox().add("GET", RECORDS, paged(5))
    assert len(fake.client().database("t1", "db1").table("Grants").all(per_page=2)) == 5
    assert len(fake.calls("GET", RECORDS)) == 3
