"""The ``workspace`` dialect: Ninox's workspace API as its OpenAPI description shows it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest

from ninox_backend.emulator import Emulator

TOKEN = "test-token"

MODULE = "/api/v1/workspace/t1/modules/db1"
GRANTS = MODULE + "/tables/Grants/records"
LODGES = MODULE + "/tables/Lodges/records"


@pytest.fixture
def dialect() -> str:
    return "workspace"


@pytest.fixture
def ws(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
def lodges(add_lodges: Callable[[int], list[int]]) -> list[int]:
    return add_lodges(5)


def assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    message = body["error"]["message"]
    assert isinstance(message, str)
    assert message
    return message


# -- routes ----------------------------------------------------------------------------
def test_the_classic_v1_routes_answer_404_in_the_workspace_dialect(ws: httpx.Client) -> None:
    assert_error(ws.get("/v1/teams"), 404)


def test_the_workspace_routes_answer_404_in_the_classic_dialects(emu: Emulator) -> None:
    emu.dialect = "docs"
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        assert client.get(MODULE + "/tables").status_code == 404


def test_it_refuses_a_call_without_the_key_as_an_error_object(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://emulator") as client:
        assert_error(client.get(MODULE + "/tables"), 401)


def test_it_lists_the_modules_of_a_workspace(ws: httpx.Client) -> None:
    reply = ws.get("/api/v1/workspace/t1/modules")
    assert reply.status_code == 200
    assert [m["name"] for m in reply.json()["data"]] == ["db1"]


def test_an_unknown_workspace_or_module_is_404(ws: httpx.Client) -> None:
    assert "workspace" in assert_error(ws.get("/api/v1/workspace/nope/modules"), 404)
    assert "module" in assert_error(ws.get("/api/v1/workspace/t1/modules/nope/tables"), 404)


def test_tables_name_their_fields_with_the_descriptions_type_names(ws: httpx.Client) -> None:
    tables = ws.get(MODULE + "/tables").json()["data"]
    grants = next(t for t in tables if t["name"] == "Grants")
    types = {f["name"]: f["type"] for f in grants["fields"]}
    assert types == {
        "Lodge": "reference",
        "Amount": "number",
        "Grant Date": "date",
        "Status": "choice",
        "Note": "string",
        "Scan": "file",
    }
    status = next(f for f in grants["fields"] if f["name"] == "Status")
    assert [o["name"] for o in status["options"]] == ["Approved", "Paid", "Cancelled"]
    one = ws.get(MODULE + "/tables/Grants").json()["data"]
    assert one["name"] == "Grants"


# -- reading ---------------------------------------------------------------------------
def test_records_come_as_data_with_string_ids_values_and_page_info(
    ws: httpx.Client, lodges: list[int]
) -> None:
    reply = ws.get(LODGES, params={"limit": 2})
    assert reply.status_code == 200
    body = reply.json()
    assert body["data"][0] == {
        "id": "1",
        "values": {"Number": 1, "Name": "Lodge 1", "Active": None},
    }
    assert body["page_info"] == {"has_more": True, "limit": 2, "offset": 0}


def test_offset_skips_rows_and_the_last_page_has_no_more(
    ws: httpx.Client, lodges: list[int]
) -> None:
    body = ws.get(LODGES, params={"limit": 2, "offset": 4}).json()
    assert [r["id"] for r in body["data"]] == ["5"]
    assert body["page_info"] == {"has_more": False, "limit": 2, "offset": 4}


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_limit_outside_1_to_100_is_a_400_naming_limit(
    ws: httpx.Client, lodges: list[int], limit: str
) -> None:
    assert "limit" in assert_error(ws.get(LODGES, params={"limit": limit}), 400)


def test_a_negative_offset_is_a_400(ws: httpx.Client, lodges: list[int]) -> None:
    assert "offset" in assert_error(ws.get(LODGES, params={"offset": "-1"}), 400)


def test_a_filter_by_field_name_keeps_the_equal_records(
    ws: httpx.Client, emu: Emulator, lodges: list[int]
) -> None:
    emu.insert(
        "t1",
        "db1",
        "Grants",
        [{"Lodge": 2, "Amount": 10}, {"Lodge": 3, "Amount": 20}, {"Lodge": 2, "Amount": 30}],
    )
    body = ws.get(GRANTS, params={"filter": json.dumps({"Lodge": 2})}).json()
    assert [(r["id"], r["values"]["Amount"]) for r in body["data"]] == [("1", 10), ("3", 30)]


def test_a_filter_key_that_names_no_field_is_ignored(ws: httpx.Client, lodges: list[int]) -> None:
    body = ws.get(LODGES, params={"filter": json.dumps({"Nope": 1})}).json()
    assert len(body["data"]) == 5


def test_a_filter_that_is_not_a_json_object_is_a_400(ws: httpx.Client, lodges: list[int]) -> None:
    assert "filter" in assert_error(ws.get(LODGES, params={"filter": "[1]"}), 400)


def test_the_filter_ignored_fault_returns_every_record(
    ws: httpx.Client, emu: Emulator, lodges: list[int]
) -> None:
    emu.faults.configure("filter_ignored")
    body = ws.get(LODGES, params={"filter": json.dumps({"Number": 3})}).json()
    assert len(body["data"]) == 5


# -- writing ---------------------------------------------------------------------------
def test_a_create_answers_201_with_the_new_ids_and_stores_the_values(
    ws: httpx.Client, lodges: list[int]
) -> None:
    reply = ws.post(
        GRANTS, json={"records": [{"Lodge": 1, "Amount": "12.50", "Grant Date": "2026-05-01"}]}
    )
    assert reply.status_code == 201
    assert reply.json() == {"data": {"ids": ["1"]}}
    values = ws.get(GRANTS).json(parse_float=Decimal)["data"][0]["values"]
    assert values["Amount"] == Decimal("12.5")
    assert values["Grant Date"] == "2026-05-01"


def test_a_patch_updates_only_the_given_fields(ws: httpx.Client, lodges: list[int]) -> None:
    reply = ws.patch(LODGES, json={"records": [{"id": 2, "Name": "Renamed"}]})
    assert reply.json() == {"data": {"updatedIds": ["2"]}}
    values = ws.get(LODGES, params={"filter": json.dumps({"Number": 2})}).json()["data"][0]
    assert values["values"]["Name"] == "Renamed"
    assert values["values"]["Number"] == 2


def test_a_patch_with_an_unknown_id_changes_nothing(ws: httpx.Client, lodges: list[int]) -> None:
    reply = ws.patch(
        LODGES, json={"records": [{"id": 1, "Name": "Changed"}, {"id": 99, "Name": "X"}]}
    )
    assert "99" in assert_error(reply, 404)
    first = ws.get(LODGES, params={"limit": 1}).json()["data"][0]
    assert first["values"]["Name"] == "Lodge 1"


def test_a_patch_without_an_id_is_a_400(ws: httpx.Client, lodges: list[int]) -> None:
    assert "id" in assert_error(ws.patch(LODGES, json={"records": [{"Name": "X"}]}), 400)


def test_a_write_to_an_unknown_field_is_a_400_naming_it(
    ws: httpx.Client, lodges: list[int]
) -> None:
    message = assert_error(ws.post(LODGES, json={"records": [{"Nope": 1}]}), 400)
    assert "Nope" in message


def test_a_value_its_field_cannot_hold_is_a_400_and_nothing_of_the_batch_is_written(
    ws: httpx.Client, lodges: list[int]
) -> None:
    """The description answers a write 200/201, 400, 401, 404 or 413 (no 422), and a PATCH
    "is transactional — if any record fails validation … all changes are rolled back"."""
    patch = ws.patch(
        LODGES, json={"records": [{"id": 1, "Name": "Changed"}, {"id": 2, "Number": "x"}]}
    )
    assert "Number" in assert_error(patch, 400)
    post = ws.post(LODGES, json={"records": [{"Number": 6}, {"Number": "x"}]})
    assert "Number" in assert_error(post, 400)
    rows = ws.get(LODGES).json()["data"]
    assert (len(rows), rows[0]["values"]["Name"]) == (5, "Lodge 1")


def test_a_delete_is_one_transaction(ws: httpx.Client, lodges: list[int]) -> None:
    assert_error(ws.request("DELETE", LODGES, json={"records": [1, 99]}), 404)
    assert len(ws.get(LODGES).json()["data"]) == 5
    reply = ws.request("DELETE", LODGES, json={"records": [1, "2"]})
    assert reply.json() == {"data": {"deletedIds": ["1", "2"]}}
    assert [r["id"] for r in ws.get(LODGES).json()["data"]] == ["3", "4", "5"]


def test_injected_server_errors_come_as_error_objects(
    ws: httpx.Client, emu: Emulator, lodges: list[int]
) -> None:
    emu.faults.configure("503=1")
    assert_error(ws.get(LODGES), 503)
