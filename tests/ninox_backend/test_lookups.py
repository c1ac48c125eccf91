"""Lookups keyed by field id, in each documented form, never trusted; ``find`` by NX query."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from ninox_fakes import DB, FakeNinox, body, record, reply

from ninox_backend import NinoxAuthError, NinoxLookupUnreliable
from ninox_backend.table import Table

LOOKUP = DB + "/tables/B/record"
RECORDS = DB + "/tables/B/records"
QUERY = DB + "/query"


def grants(fake: FakeNinox) -> Table:
    return fake.client().database("t1", "db1").table("Grants")


# ---- first(): the lookup endpoint ----------------------------------------------------------


def test_it_sends_the_lookup_keyed_by_field_id_in_seed_004s_body() -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(200, record(6, Reference="APP-1")))
    found = grants(fake).first({"Reference": "APP-1"})
    assert found is not None
    assert found.id == 6
    assert body(fake.calls("POST", LOOKUP)[0]) == {"filters": {"K": "APP-1"}}


def test_the_flat_form_sends_seed_002s_body() -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(200, record(6, Reference="APP-1")))
    assert grants(fake).first({"Reference": "APP-1"}, form="post-flat") is not None
    assert body(fake.calls("POST", LOOKUP)[0]) == {"K": "APP-1"}


@pytest.mark.parametrize("answer", ["one record", "a list"])
def test_the_get_form_asks_records_with_filters_and_accepts_one_record_or_a_list(
    answer: str,
) -> None:
    found = record(6, Reference="APP-1", Amount=Decimal("5.00"))
    fake = FakeNinox().add("GET", RECORDS, reply(200, found if answer == "one record" else [found]))
    result = grants(fake).first(
        {"Reference": "APP-1", "Amount": Decimal("5")}, form="get-records-filters"
    )
    assert result is not None
    assert result.id == 6
    sent = fake.calls("GET", RECORDS)[0].url.params["filters"]
    assert json.loads(sent) == {"K": "APP-1", "A": 5}


def test_a_record_that_does_not_carry_the_asked_value_is_not_honoured_never_not_found() -> None:
    # A Ninox that ignores an unknown key answers with the first record of the table.
    fake = FakeNinox().add("POST", LOOKUP, reply(200, record(1, Reference="APP-OTHER")))
    with pytest.raises(NinoxLookupUnreliable) as caught:
        grants(fake).first({"Reference": "APP-1"})
    assert "this lookup form is not honoured here" in str(caught.value)
    assert caught.value.permanent is True
    assert "'Reference'" in caught.value.message


def test_a_record_without_the_asked_field_is_not_trusted() -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(200, record(1, Amount=5)))
    with pytest.raises(NinoxLookupUnreliable):
        grants(fake).first({"Reference": "APP-1"})


def test_a_list_with_any_record_that_does_not_match_is_not_trusted() -> None:
    rows = [record(6, Reference="APP-1"), record(7, Reference="APP-2")]
    fake = FakeNinox().add("GET", RECORDS, reply(200, rows))
    with pytest.raises(NinoxLookupUnreliable):
        grants(fake).first({"Reference": "APP-1"}, form="get-records-filters")


def test_values_are_compared_as_converted_values() -> None:
    found = record(6, Amount=Decimal("250.00"), **{"Grant Date": "2026-05-01", "Lodge": 3})
    fake = FakeNinox().add("POST", LOOKUP, reply(200, found))
    asked = {"Amount": 250, "Grant Date": dt.date(2026, 5, 1), "Lodge": 3}
    assert grants(fake).first(asked) is not None
    assert body(fake.calls("POST", LOOKUP)[0]) == {"filters": {"A": 250, "B": "2026-05-01", "C": 3}}


@pytest.mark.parametrize(
    ("asked", "stored"),
    [
        ({"Amount": Decimal("250.00")}, {"Amount": Decimal("250.01")}),
        ({"Amount": Decimal("250")}, {"Amount": "two hundred fifty"}),
        ({"Grant Date": dt.date(2026, 5, 1)}, {"Grant Date": "2026-05-02"}),
        ({"Reference": "APP-1"}, {"Reference": "app-1"}),
        ({"Reference": "APP-1"}, {"Reference": "APP-1 "}),
    ],
)
def test_a_near_miss_is_still_a_mismatch(asked: dict[str, Any], stored: dict[str, Any]) -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(200, record(6, **stored)))
    with pytest.raises(NinoxLookupUnreliable):
        grants(fake).first(asked)


def test_a_404_means_no_such_record() -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(404, text="Not Found"))
    assert grants(fake).first({"Reference": "APP-1"}) is None


def test_an_empty_list_means_no_such_record() -> None:
    fake = FakeNinox().add("GET", RECORDS, reply(200, []))
    assert grants(fake).first({"Reference": "APP-1"}, form="get-records-filters") is None


@pytest.mark.parametrize("answer", [{}, "ok", None, [{"no": "id"}], {"id": "x"}])
def test_a_reply_that_is_not_a_record_is_not_trusted(answer: Any) -> None:
    fake = FakeNinox().add("POST", LOOKUP, reply(200, answer) if answer is not None else reply(200))
    with pytest.raises(NinoxLookupUnreliable):
        grants(fake).first({"Reference": "APP-1"})


def test_an_unknown_form_is_refused_before_any_call() -> None:
    fake = FakeNinox()
    with pytest.raises(ValueError, match="unknown lookup form"):
        grants(fake).first({"Reference": "APP-1"}, form="GET")
    assert fake.api_calls() == []


# ---- find(): an NX query, each id read back and verified ------------------------------------


def query_and_records(answer: Any, **rows: dict[str, Any]) -> FakeNinox:
    fake = FakeNinox().add("POST", QUERY, reply(200, answer) if answer is not None else reply(200))
    for rid, fields in rows.items():
        fake.add("GET", f"{RECORDS}/{rid[1:]}", reply(200, record(int(rid[1:]), **fields)))
    return fake


def test_find_asks_an_nx_query_built_with_the_nx_builder_and_reads_each_id() -> None:
    fake = query_and_records(["B6"], r6={"Reference": 'APP "1"'})
    found = grants(fake).find({"Reference": 'APP "1"'})
    assert [r.id for r in found] == [6]
    assert body(fake.calls("POST", QUERY)[0]) == {
        "query": 'select Grants where Reference = "APP \\"1\\""'
    }
    assert len(fake.calls("GET", RECORDS + "/6")) == 1


@pytest.mark.parametrize(
    ("answer", "ids"),
    [
        (["B6", "B7"], [6, 7]),
        ([6, "7"], [6, 7]),
        ("B6", [6]),
        (6, [6]),
        (Decimal("6"), [6]),
        (["B6", "B6"], [6]),
        ([], []),
        (None, []),
    ],
)
def test_find_reads_the_query_reply_tolerantly(answer: Any, ids: list[int]) -> None:
    fake = query_and_records(answer, r6={"Reference": "APP-1"}, r7={"Reference": "APP-1"})
    assert [r.id for r in grants(fake).find({"Reference": "APP-1"})] == ids


@pytest.mark.parametrize("answer", [["A6"], {"id": 6}, [True], "six", Decimal("6.5"), [0]])
def test_find_does_not_trust_a_reply_it_cannot_understand(answer: Any) -> None:
    fake = query_and_records(answer, r6={"Reference": "APP-1"})
    with pytest.raises(NinoxLookupUnreliable):
        grants(fake).find({"Reference": "APP-1"})
    assert fake.calls("GET", RECORDS + "/6") == []


def test_find_does_not_trust_a_record_whose_values_differ() -> None:
    fake = query_and_records(["B6"], r6={"Reference": "APP-2"})
    with pytest.raises(NinoxLookupUnreliable, match="not honoured"):
        grants(fake).find({"Reference": "APP-1"})


def test_find_does_not_trust_an_id_it_cannot_read() -> None:
    fake = query_and_records(["B6"])
    with pytest.raises(NinoxLookupUnreliable, match="cannot be read"):
        grants(fake).find({"Reference": "APP-1"})


def test_a_refused_query_propagates_its_error() -> None:
    fake = FakeNinox().add("POST", QUERY, reply(403, text="query is not allowed"))
    with pytest.raises(NinoxAuthError):
        grants(fake).find({"Reference": "APP-1"})


def test_find_joins_several_filters_with_and() -> None:
    fake = query_and_records(
        [], r6={"Reference": "APP-1", "Amount": Decimal("5"), "Grant Date": "2026-05-01"}
    )
    grants(fake).find({"Reference": "APP-1", "Grant Date": dt.date(2026, 5, 1)})
    assert body(fake.calls("POST", QUERY)[0]) == {
        "query": "select Grants where (Reference = \"APP-1\" and 'Grant Date' = date(2026, 5, 1))"
    }


def test_find_without_filters_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one filter"):
        grants(FakeNinox()).find({})
