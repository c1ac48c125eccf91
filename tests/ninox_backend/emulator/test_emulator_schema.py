"""Teams, databases, the schema and tables, addressed by id or name."""

from __future__ import annotations

import httpx

from ninox_backend.emulator import Emulator


def test_teams_lists_every_team(emu: Emulator, root: httpx.Client) -> None:
    emu.add_team("t2", name="Team Two")
    assert root.get("/teams").json() == [
        {"id": "t1", "name": "Team One"},
        {"id": "t2", "name": "Team Two"},
    ]
    assert root.get("/teams/t2").json() == {"id": "t2", "name": "Team Two"}


def test_databases_lists_a_teams_databases(root: httpx.Client) -> None:
    assert root.get("/teams/t1/databases").json() == [{"id": "db1", "name": "Grants DB"}]


def test_the_schema_describes_tables_fields_choices_and_references(root: httpx.Client) -> None:
    body = root.get("/teams/t1/databases/db1").json()
    assert body["settings"] == {"name": "Grants DB"}
    schema = body["schema"]
    assert schema["seq"] == 0
    assert schema["version"] == 2
    grants = schema["types"]["B"]
    assert grants["caption"] == "Grants"
    assert grants["kind"] == "table"
    assert grants["fields"]["A"]["base"] == "reference"
    assert grants["fields"]["A"]["refTypeId"] == "A"
    assert grants["fields"]["D"]["values"]["3"]["val"] == "Cancelled"
    assert grants["fields"]["B"] == {
        "base": "number",
        "caption": "Amount",
        "required": False,
        "order": 1,
    }


def test_a_formula_field_shows_its_expression(emu: Emulator, root: httpx.Client) -> None:
    emu.add_table("t1", "db1", "F", [{"name": "Two", "type": "formula", "formula": "1 + 1"}])
    fields = root.get("/teams/t1/databases/db1").json()["schema"]["types"]["C"]["fields"]
    assert fields["A"]["fn"] == "1 + 1"


def test_tables_lists_ids_names_and_typed_fields(api: httpx.Client) -> None:
    tables = api.get("/tables").json()
    assert [(t["id"], t["name"]) for t in tables] == [("A", "Lodges"), ("B", "Grants")]
    assert tables[0]["fields"][0] == {"id": "A", "name": "Number", "type": "number"}


def test_a_table_is_addressable_by_id_or_name(api: httpx.Client) -> None:
    assert api.get("/tables/B").json() == api.get("/tables/Grants").json()


def test_a_table_name_with_spaces_is_addressable(emu: Emulator, api: httpx.Client) -> None:
    emu.add_table("t1", "db1", "Grant Lines", [{"name": "X", "type": "text"}])
    assert api.get("/tables/Grant Lines").json()["id"] == "C"


def test_field_ids_continue_past_z() -> None:
    emu = Emulator(dialect="legacy")
    emu.add_team("t")
    emu.add_database("t", "d")
    emu.add_table("t", "d", "Wide", [{"name": f"F{i}", "type": "text"} for i in range(28)])
    fields = emu.store.table(emu.store.database("t", "d"), "Wide").fields
    assert [f.id for f in fields[24:]] == ["Y", "Z", "AA", "AB"]
