"""The faults that settle a guess the wrong way: no feed, numeric dates, no query.

Each holds in both dialects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.emulator.faults import parse_spec

MAY_1_2026_MS = int(datetime(2026, 5, 1, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(params=["docs", "legacy"])
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def grant(api: httpx.Client, add_lodges: Callable[[int], list[int]]) -> dict:
    """Lodge 1 and one grant of it dated 2026-05-01, as the API answered its creation."""
    add_lodges(1)
    body = {"fields": {"Lodge": 1, "Amount": 250, "Grant Date": "2026-05-01", "Status": "Paid"}}
    return api.post("/tables/Grants/records", json=body).json()[0]


def is_plain_text(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/plain")


# -- spec ------------------------------------------------------------------------------
def test_a_switch_is_turned_on_by_its_bare_name_or_1_and_left_off_by_0() -> None:
    assert parse_spec("changes_404,dates_epoch_ms=1,query_refused=true") == {
        "changes_404": True,
        "dates_epoch_ms": True,
        "query_refused": True,
    }
    assert parse_spec("changes_404=0,503=0.5") == {"503": 0.5}


def test_a_switch_with_another_value_names_the_item() -> None:
    with pytest.raises(ValueError, match="changes_404=maybe"):
        parse_spec("changes_404=maybe")


def test_switches_can_be_set_with_keywords(emu: Emulator) -> None:
    emu.faults.configure(changes_404=True, query_refused=False)
    assert emu.faults.settings == {"changes_404": True}


# -- changes_404 -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/changes", "/tables/Grants/changes", "/tables/Grants/records/1/changes"]
)
def test_changes_404_makes_every_change_feed_a_404(
    emu: Emulator, api: httpx.Client, grant: dict, path: str
) -> None:
    emu.faults.configure("changes_404")
    assert api.get(path, params={"sinceSq": 0}).status_code == 404
    assert emu.faults.injected["changes_404"] == 1
    emu.faults.clear()
    assert api.get(path, params={"sinceSq": 0}).status_code == 200


def test_changes_404_leaves_records_since_a_sequence_alone(
    emu: Emulator, api: httpx.Client, grant: dict
) -> None:
    emu.faults.configure("changes_404")
    response = api.get("/tables/Grants/records", params={"sinceSq": 1})
    assert [r["id"] for r in response.json()] == [grant["id"]]


# -- dates_epoch_ms --------------------------------------------------------------------
def test_without_the_fault_a_date_is_text(grant: dict) -> None:
    assert grant["fields"]["Grant Date"] == "2026-05-01"


def test_dates_epoch_ms_sends_dates_as_epoch_milliseconds_everywhere_a_record_goes(
    emu: Emulator, api: httpx.Client, grant: dict
) -> None:
    emu.faults.configure("dates_epoch_ms")
    replies = [
        api.get("/tables/Grants/records").json()[0],
        api.get("/tables/Grants/records/1").json(),
        api.post("/tables/Grants/records", json={"id": 1, "fields": {"Amount": 300}}).json()[0],
        api.put("/tables/Grants/records/1", json={"fields": {"Amount": 350}}).json(),
        api.post("/tables/Grants/record", json={"filters": {"A": 1}}).json(),
    ]
    assert [r["fields"]["Grant Date"] for r in replies] == [MAY_1_2026_MS] * 5
    assert emu.faults.injected["dates_epoch_ms"] == 5


def test_dates_epoch_ms_reaches_the_change_feed_too(
    emu: Emulator, api: httpx.Client, dialect: str, grant: dict
) -> None:
    emu.faults.configure("dates_epoch_ms")
    feed = api.get("/tables/Grants/changes", params={"sinceSq": 0}).json()
    record = feed[0] if dialect == "docs" else feed["changes"][0]["record"]
    assert record["fields"]["Grant Date"] == MAY_1_2026_MS


def test_dates_epoch_ms_leaves_other_fields_and_stored_dates_alone(
    emu: Emulator, api: httpx.Client, grant: dict
) -> None:
    emu.faults.configure("dates_epoch_ms")
    fields = api.get("/tables/Grants/records/1").json()["fields"]
    assert {k: v for k, v in fields.items() if k != "Grant Date"} == {
        "Lodge": 1,
        "Amount": 250,
        "Status": "Paid",
    }
    emu.faults.clear()
    assert api.get("/tables/Grants/records/1").json()["fields"]["Grant Date"] == "2026-05-01"


# -- query_refused ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "options"),
    [
        ("GET", "/query", {"params": {"query": "count(select Grants)"}}),
        ("POST", "/query", {"json": {"query": "count(select Grants)"}}),
        ("POST", "/exec", {"json": {"query": "count(select Grants)"}}),
    ],
)
def test_query_refused_answers_403_with_a_plain_text_body(
    emu: Emulator, api: httpx.Client, grant: dict, method: str, path: str, options: dict
) -> None:
    emu.faults.configure("query_refused")
    response = api.request(method, path, **options)
    assert response.status_code == 403
    assert is_plain_text(response)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    emu.faults.clear()
    assert api.request(method, path, **options).json() == 1


def test_a_refused_exec_writes_nothing(emu: Emulator, api: httpx.Client, grant: dict) -> None:
    emu.faults.configure("query_refused")
    api.post("/exec", json={"query": "let r := (create Grants); r.(Amount := 9)"})
    emu.faults.clear()
    assert len(api.get("/tables/Grants/records").json()) == 1


def test_query_refused_leaves_records_alone(emu: Emulator, api: httpx.Client, grant: dict) -> None:
    emu.faults.configure("query_refused")
    assert api.get("/tables/Grants/records/1").status_code == 200


def test_a_wrong_key_is_still_a_401_under_query_refused(emu: Emulator) -> None:
    emu.faults.configure("query_refused")
    with httpx.Client(transport=emu.transport(), base_url="http://emulator/v1") as anonymous:
        response = anonymous.get("/teams/t1/databases/db1/query", params={"query": "1"})
    assert response.status_code == 401
