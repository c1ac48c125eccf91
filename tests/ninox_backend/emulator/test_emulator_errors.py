"""Errors are answered like a server: a status and a {"message"} body."""

from __future__ import annotations

import httpx
import pytest

from ninox_backend.emulator import Emulator


def test_a_missing_key_is_401(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://e/v1") as client:
        response = client.get("/teams")
    assert response.status_code == 401
    assert "Authorization" in response.json()["message"]


def test_a_wrong_key_is_401(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://e/v1") as client:
        response = client.get("/teams", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"message": "invalid API key"}


def test_several_keys_can_be_accepted() -> None:
    emu = Emulator(token=None, tokens=["a", "b"], dialect="legacy")
    with httpx.Client(transport=emu.transport(), base_url="http://e/v1") as client:
        assert client.get("/teams", headers={"Authorization": "Bearer b"}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/teams/nope",
        "/teams/nope/databases",
        "/teams/t1/databases/nope",
        "/teams/t1/databases/db1/tables/Nope",
        "/teams/t1/databases/db1/tables/Nope/records",
        "/teams/t1/databases/db1/tables/Lodges/records/99",
        "/teams/t1/databases/db1/tables/Lodges/records/abc",
        "/teams/t1/databases/db1/somewhere",
    ],
)
def test_unknown_things_are_404_with_a_message(root: httpx.Client, path: str) -> None:
    response = root.get(path)
    assert response.status_code == 404
    assert response.json()["message"]


def test_table_names_are_case_sensitive(root: httpx.Client) -> None:
    assert root.get("/teams/t1/databases/db1/tables/lodges").status_code == 404


def test_a_body_that_is_not_json_is_400(api: httpx.Client) -> None:
    response = api.post(
        "/tables/Lodges/records", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


def test_a_body_nested_ten_thousand_deep_is_400_not_500(api: httpx.Client) -> None:
    response = api.post(
        "/tables/Lodges/records",
        content=b"[" * 10_000 + b"]" * 10_000,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["message"]


def test_a_wrong_method_is_405(api: httpx.Client) -> None:
    response = api.put("/tables/Lodges/records", json=[])
    assert response.status_code == 405
    assert response.json()["message"]


def test_writing_a_formula_field_is_422(emu: Emulator, api: httpx.Client) -> None:
    emu.add_table("t1", "db1", "F", [{"name": "Calc", "type": "formula", "formula": "1 + 1"}])
    response = api.post("/tables/F/records", json={"fields": {"Calc": 3}})
    assert response.status_code == 422
    assert "Calc" in response.json()["message"]
