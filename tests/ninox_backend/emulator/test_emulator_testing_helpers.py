"""ninox_backend.testing: the in-process emulator for users' tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninox_backend.testing import BASE_URL, demo_ninox, emulated_ninox


def test_emulated_ninox_builds_the_schema_and_records() -> None:
    schema = {
        "Lodges": [{"name": "Number", "type": "number"}, {"name": "Name", "type": "text"}],
        "Grants": [
            {"name": "Lodge", "type": "reference", "table": "Lodges"},
            {"name": "Amount", "type": "number"},
        ],
    }
    records: dict[str, list[dict[str, Any]]] = {
        "Lodges": [{"Number": 123, "Name": "Kilwinning No. 123"}],
        "Grants": [{"Lodge": 1}],
    }
    with emulated_ninox(schema=schema, records=records, dialect="legacy") as ninox:
        assert ninox.base_url == BASE_URL
        assert ninox.token == "test-token"
        with ninox.client() as client:
            path = f"/teams/{ninox.team_id}/databases/{ninox.database_id}/tables/Lodges/records/1"
            assert client.get(path).json()["fields"]["Name"] == "Kilwinning No. 123"
        assert ninox.emulator.calls == 1


def test_demo_ninox_serves_the_demo() -> None:
    with demo_ninox(seed=3, today=date(2026, 11, 25), dialect="legacy") as ninox:
        assert (ninox.team_id, ninox.database_id) == ("demo", "grants")
        with ninox.client() as client:
            tables = client.get("/teams/demo/databases/grants/tables").json()
        assert [t["name"] for t in tables] == ["Lodges", "Grants"]


def test_emulated_ninox_can_start_with_faults() -> None:
    with emulated_ninox(faults="503=1", dialect="legacy") as ninox, ninox.client() as client:
        assert client.get("/teams").status_code == 503
