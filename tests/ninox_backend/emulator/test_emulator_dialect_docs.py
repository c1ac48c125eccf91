"""The ``docs`` dialect: Ninox as its documents show it, least convenient where silent."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from ninox_backend.emulator import Emulator


@pytest.fixture
def dialect() -> str:
    return "docs"


@pytest.fixture
def lodges(add_lodges: Callable[[int], list[int]]) -> list[int]:
    """Lodges 1..3 named "Lodge 1".."Lodge 3"; lodge 2 is active."""
    ids = add_lodges(3)
    return ids


def ids(records: list[dict]) -> list[int]:
    return [r["id"] for r in records]


def assert_plain_text(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/plain")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert response.text.strip()


# -- lookups ---------------------------------------------------------------------------
def test_a_lookup_in_seed_004s_form_keyed_by_field_id_answers_the_matching_record(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.post("/tables/A/record", json={"filters": {"B": "Lodge 2"}})
    assert response.status_code == 200
    assert response.json()["id"] == 2
    assert response.json()["fields"]["Name"] == "Lodge 2"


def test_a_lookup_in_seed_002s_flat_form_matches_every_key(
    emu: Emulator, api: httpx.Client, lodges: list[int]
) -> None:
    api.put("/tables/A/records/3", json={"fields": {"Name": "Lodge 2", "Active": True}})
    response = api.post("/tables/Lodges/record", json={"B": "Lodge 2", "C": True})
    assert response.json()["id"] == 3


def test_a_lookup_keyed_by_field_names_is_ignored_and_answers_the_first_record(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.post("/tables/Lodges/record", json={"filters": {"Name": "Lodge 3"}})
    assert response.status_code == 200
    assert response.json()["id"] == 1


def test_a_flat_lookup_keyed_by_field_names_answers_the_first_record_too(
    api: httpx.Client, lodges: list[int]
) -> None:
    assert api.post("/tables/A/record", json={"Name": "Lodge 3"}).json()["id"] == 1


def test_unknown_keys_beside_a_field_id_are_ignored(api: httpx.Client, lodges: list[int]) -> None:
    body = {"filters": {"B": "Lodge 3", "Number": 1, "ZZ": "x"}}
    assert api.post("/tables/A/record", json=body).json()["id"] == 3


def test_a_lookup_that_matches_nothing_is_a_404_with_a_plain_text_body(
    api: httpx.Client, lodges: list[int]
) -> None:
    assert_plain_text(api.post("/tables/A/record", json={"filters": {"B": "Nowhere"}}), 404)


def test_a_lookup_value_its_field_cannot_hold_matches_nothing(
    api: httpx.Client, lodges: list[int]
) -> None:
    assert_plain_text(api.post("/tables/A/record", json={"A": "not a number"}), 404)


def test_a_lookup_by_a_reference_takes_the_linked_record_id(
    api: httpx.Client, lodges: list[int]
) -> None:
    api.post("/tables/B/records", json=[{"fields": {"Lodge": 1}}, {"fields": {"Lodge": 3}}])
    response = api.post("/tables/Grants/record", json={"filters": {"A": 3}})
    assert response.json()["id"] == 2
    assert response.json()["fields"]["Lodge"] == 3


def test_a_lookup_in_an_empty_table_is_a_404(api: httpx.Client) -> None:
    assert_plain_text(api.post("/tables/A/record", json={"filters": {}}), 404)


def test_the_get_lookup_on_record_singular_is_not_an_endpoint(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.get("/tables/A/record", params={"filters": json.dumps({"B": "Lodge 2"})})
    assert_plain_text(response, 404)


# -- records?filters= ------------------------------------------------------------------
def test_records_with_filters_answers_one_record_not_a_list(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.get("/tables/A/records", params={"filters": json.dumps({"B": "Lodge 2"})})
    assert response.status_code == 200
    assert isinstance(response.json(), dict)
    assert response.json()["id"] == 2


def test_records_with_filters_keyed_by_name_answers_the_first_record(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.get("/tables/A/records", params={"filters": json.dumps({"Name": "Lodge 3"})})
    assert response.json()["id"] == 1


def test_records_with_filters_that_match_nothing_is_a_404(
    api: httpx.Client, lodges: list[int]
) -> None:
    response = api.get("/tables/A/records", params={"filters": json.dumps({"B": "Nowhere"})})
    assert_plain_text(response, 404)


def test_records_without_filters_still_answers_a_list(api: httpx.Client, lodges: list[int]) -> None:
    assert ids(api.get("/tables/A/records").json()) == [1, 2, 3]


def test_per_page_is_capped_at_100(emu: Emulator, api: httpx.Client) -> None:
    emu.insert("t1", "db1", "Lodges", [{"Number": n} for n in range(1, 251)])
    first = api.get("/tables/A/records", params={"perPage": 500}).json()
    third = api.get("/tables/A/records", params={"perPage": 500, "page": 2}).json()
    assert len(first) == 100
    assert ids(third) == list(range(201, 251))


# -- change feeds ----------------------------------------------------------------------
def test_the_database_feed_is_a_bare_list_of_changed_records_without_table_or_operation(
    api: httpx.Client, lodges: list[int]
) -> None:
    api.post("/tables/B/records", json={"fields": {"Lodge": 2, "Amount": 5}})
    feed = api.get("/changes", params={"sinceSq": 2}).json()
    assert isinstance(feed, list)
    assert [(r["id"], r["sequence"]) for r in feed] == [(3, 3), (1, 4)]
    assert feed[1]["fields"] == {"Lodge": 2, "Amount": 5}
    assert all("table" not in r and "op" not in r for r in feed)


def test_an_updated_record_appears_once_as_it_is_now(api: httpx.Client, lodges: list[int]) -> None:
    api.put("/tables/A/records/1", json={"fields": {"Name": "a"}})
    api.put("/tables/A/records/1", json={"fields": {"Name": "b"}})
    feed = api.get("/tables/A/changes", params={"sinceSq": 3}).json()
    assert [(r["id"], r["sequence"], r["fields"]["Name"]) for r in feed] == [(1, 5, "b")]


def test_a_deleted_record_is_invisible_in_the_feed(api: httpx.Client, lodges: list[int]) -> None:
    api.delete("/tables/A/records/2")
    assert api.get("/changes", params={"sinceSq": 3}).json() == []
    assert ids(api.get("/changes", params={"sinceSq": 0}).json()) == [1, 3]


def test_the_table_feed_lists_only_that_tables_records(
    api: httpx.Client, lodges: list[int]
) -> None:
    api.post("/tables/B/records", json={"fields": {"Amount": 1}})
    feed = api.get("/tables/Grants/changes", params={"sinceSq": 0}).json()
    assert [(r["id"], r["fields"]) for r in feed] == [(1, {"Amount": 1})]


def test_the_record_feed_lists_that_record_and_a_deleted_one_is_a_404(
    api: httpx.Client, lodges: list[int]
) -> None:
    assert ids(api.get("/tables/A/records/2/changes", params={"sinceSq": 0}).json()) == [2]
    api.delete("/tables/A/records/2")
    assert_plain_text(api.get("/tables/A/records/2/changes", params={"sinceSq": 0}), 404)


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/tables/Nope/records", None, 404),
        ("GET", "/tables/A/records/99", None, 404),
        ("GET", "/tables/A/records?perPage=x", None, 400),
        ("POST", "/tables/A/records", b"{not json", 400),
        ("POST", "/tables/A/records", b'{"fields": {"Number": "x"}}', 422),
        ("PATCH", "/tables/A/records", b"{}", 405),
    ],
)
def test_every_error_body_is_plain_text(
    api: httpx.Client, lodges: list[int], method: str, path: str, body: bytes | None, status: int
) -> None:
    assert_plain_text(api.request(method, path, content=body), status)


def test_a_missing_key_and_a_path_outside_v1_are_plain_text_too(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport(), base_url="http://emulator") as anonymous:
        assert_plain_text(anonymous.get("/v1/teams"), 401)
        assert_plain_text(anonymous.get("/v2/teams"), 404)


def test_injected_faults_answer_in_plain_text_and_keep_retry_after(
    emu: Emulator, api: httpx.Client
) -> None:
    emu.faults.configure("503=1")
    assert_plain_text(api.get("/tables"), 503)
    emu.faults.configure("429every=1,retry_after=2")
    response = api.get("/tables")
    assert_plain_text(response, 429)
    assert response.headers["retry-after"] == "2"


# -- schema ----------------------------------------------------------------------------
SEED_002_TYPES = [
    "text", "number", "date", "datetime", "time", "timeinterval", "appointment",
    "boolean", "choice", "multi", "location", "email", "phone", "url", "html",
]  # fmt: skip


@pytest.fixture
def every_type(emu: Emulator) -> str:
    """A table "Kinds" with one field of each type (named after it), plus the others."""
    specs: list[dict] = [
        {"name": t, "type": t, **({"options": ["x", "y"]} if t in ("choice", "multi") else {})}
        for t in SEED_002_TYPES
    ]
    specs += [
        {"name": "reference", "type": "reference", "table": "Lodges"},
        {"name": "file", "type": "file"},
        {"name": "image", "type": "image"},
        {"name": "formula", "type": "formula", "formula": "1 + 1"},
    ]
    return emu.add_table("t1", "db1", "Kinds", specs)


def test_tables_use_seed_002s_type_names(api: httpx.Client, every_type: str) -> None:
    fields = api.get(f"/tables/{every_type}").json()["fields"]
    typed = {f["name"]: f["type"] for f in fields if "type" in f}
    assert typed == {t: t for t in SEED_002_TYPES}


def test_a_reference_file_image_or_formula_field_has_no_type_in_tables(
    api: httpx.Client, every_type: str
) -> None:
    fields = api.get("/tables").json()[2]["fields"]
    untyped = [f for f in fields if "type" not in f]
    assert [f["name"] for f in untyped] == ["reference", "file", "image", "formula"]
    assert all(set(f) == {"id", "name"} for f in untyped)


def test_tables_carry_no_choices_targets_or_formulas(api: httpx.Client) -> None:
    grants = api.get("/tables/Grants").json()
    assert all(set(f) <= {"id", "name", "type"} for f in grants["fields"])


def test_the_database_schema_uses_the_base_names_of_recorded_ninox_schemas(
    api: httpx.Client, every_type: str
) -> None:
    fields = api.get("").json()["schema"]["types"][every_type]["fields"].values()
    bases = {f["caption"]: f["base"] for f in fields}
    assert bases["text"] == "string"
    assert bases["url"] == "link"
    assert bases["reference"] == "ref"
    assert bases["datetime"] == "timestamp"
    assert bases["formula"] == "any"
    assert {bases[t] for t in ("number", "date", "boolean", "choice")} == {
        "number",
        "date",
        "boolean",
        "choice",
    }


def test_a_ref_field_names_its_target_table_and_a_formula_its_nx(
    api: httpx.Client, every_type: str
) -> None:
    types = api.get("").json()["schema"]["types"]
    fields = {f["caption"]: f for f in types[every_type]["fields"].values()}
    assert fields["reference"]["refTypeId"] == "A"
    assert fields["formula"]["fn"] == "1 + 1"
    assert types["B"]["fields"]["A"] == {
        "base": "ref",
        "caption": "Lodge",
        "required": False,
        "order": 0,
        "formWidth": 0.5,
        "refTypeId": "A",
    }


def test_the_database_schema_carries_fractional_numbers_on_fields_and_tables(
    api: httpx.Client,
) -> None:
    schema = json.loads(api.get("").text, parse_float=Decimal)["schema"]
    lodges = schema["types"]["A"]
    assert lodges["formWidth"] == Decimal("0.5")
    assert {f["formWidth"] for f in lodges["fields"].values()} == {Decimal("0.5")}


# -- values ----------------------------------------------------------------------------
def test_links_are_record_ids_and_dates_are_text(api: httpx.Client, lodges: list[int]) -> None:
    body = {"fields": {"Lodge": 2, "Amount": "12.50", "Grant Date": "2026-05-01"}}
    api.post("/tables/B/records", json=body)
    fields = api.get("/tables/B/records/1").json()["fields"]
    assert fields == {"Lodge": 2, "Amount": 12.5, "Grant Date": "2026-05-01"}


def test_a_deletion_answers_an_empty_object(api: httpx.Client, lodges: list[int]) -> None:
    response = api.delete("/tables/A/records/1")
    assert (response.status_code, response.json()) == (200, {})
    response = api.request("DELETE", "/tables/A/records", content=b"[2, 3]")
    assert (response.status_code, response.json()) == (200, {})
    assert api.get("/tables/A/records").json() == []


def test_the_token_is_still_required(emu: Emulator) -> None:
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator/v1",
        headers={"Authorization": "Bearer not-the-key"},
    ) as wrong:
        assert_plain_text(wrong.get("/teams"), 401)
