"""The workspace API's client and sync engine, on the emulator's ``workspace`` dialect."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ninox_fakes import Mirror

from ninox_backend.exceptions import (
    NinoxError,
    NinoxLookupUnreliable,
    NinoxPagingError,
    NinoxUnsupported,
)
from ninox_backend.profile import CapabilityProfile
from ninox_backend.sync import InMemorySyncStateStore
from ninox_backend.testing import EmulatedNinox, demo_ninox, emulated_ninox
from ninox_backend.workspace import WorkspaceClient, WorkspaceTable
from ninox_backend.workspace_sync import WorkspaceSyncEngine

SCHEMA: dict[str, list[dict[str, Any]]] = {
    "Lodges": [
        {"name": "Number", "type": "number"},
        {"name": "Name", "type": "text"},
        {"name": "Email", "type": "email"},
    ],
    "Grants": [
        {"name": "Lodge", "type": "reference", "table": "Lodges"},
        {"name": "Reference", "type": "text"},
        {"name": "Amount", "type": "number"},
        {"name": "Grant Date", "type": "date"},
        {"name": "Status", "type": "choice", "options": ["Approved", "Paid", "Cancelled"]},
        {"name": "Paid At", "type": "datetime"},
    ],
}


@pytest.fixture
def ninox() -> Iterator[EmulatedNinox]:
    records = {
        "Lodges": [{"Number": n, "Name": f"Lodge {n}"} for n in range(1, 4)],
        "Grants": [
            {"Lodge": 1, "Reference": "G-1", "Amount": "100.10", "Grant Date": "2026-05-02"},
            {"Lodge": 2, "Reference": "G-2", "Amount": "200", "Grant Date": "2026-06-01"},
            {"Lodge": 1, "Reference": "G-3", "Amount": "300", "Grant Date": "2025-06-01"},
        ],
    }
    with emulated_ninox(schema=SCHEMA, records=records, dialect="workspace") as emulated:
        yield emulated


@pytest.fixture
def client(ninox: EmulatedNinox) -> Iterator[WorkspaceClient]:
    with ninox.api_client() as built:
        assert isinstance(built, WorkspaceClient)
        yield built


def grants(client: WorkspaceClient, ninox: EmulatedNinox) -> WorkspaceTable:
    return client.database(ninox.team_id, ninox.database_id).table("Grants")


# ---- reading -------------------------------------------------------------------------------


def test_records_are_typed_from_the_tables_endpoint(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    first = grants(client, ninox).all()[0]
    assert first.id == 1
    assert first["Amount"] == Decimal("100.10")
    assert first["Grant Date"] == dt.date(2026, 5, 2)
    assert first["Lodge"] == 1
    assert "Paid At" not in first.fields  # null values are left out, as on the classic API


def test_a_string_field_with_an_email_variant_is_an_email_field(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    lodges = client.database(ninox.team_id, ninox.database_id).table("Lodges")
    assert lodges.schema.field("Email").type == "email"


def test_paging_by_offset_reads_every_record_and_stops_when_there_is_no_more(
    ninox: EmulatedNinox, client: WorkspaceClient
) -> None:
    ninox.emulator.insert(
        ninox.team_id, ninox.database_id, "Lodges", [{"Number": n} for n in range(4, 251)]
    )
    lodges = client.database(ninox.team_id, ninox.database_id).table("Lodges")
    with client.counting() as counter:
        numbers = [r["Number"] for r in lodges.iter_records()]
    assert numbers == list(range(1, 251))
    assert counter.calls == 3 + 1  # the schema, then 100 + 100 + 50


def test_a_server_that_ignores_offset_stops_with_a_paging_error(ninox: EmulatedNinox) -> None:
    ninox.emulator.insert(
        ninox.team_id, ninox.database_id, "Lodges", [{"Number": n} for n in range(4, 120)]
    )

    def no_offset(request: httpx.Request) -> httpx.Response:
        url = request.url.copy_remove_param("offset")
        forwarded = httpx.Request(request.method, url, headers=request.headers)
        response = ninox.transport.handle_request(forwarded)
        response.read()
        return response

    with WorkspaceClient(
        token=ninox.token, base_url=ninox.base_url, transport=httpx.MockTransport(no_offset)
    ) as client:
        lodges = client.database(ninox.team_id, ninox.database_id).table("Lodges")
        with pytest.raises(NinoxPagingError):
            lodges.all()


def test_find_returns_every_record_with_the_value(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    found = grants(client, ninox).find({"Lodge": 1})
    assert [r["Reference"] for r in found] == ["G-1", "G-3"]
    assert grants(client, ninox).find({"Reference": "G-404"}) == []


def test_a_filter_the_server_ignores_is_unreliable_never_not_found(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    ninox.emulator.faults.configure("filter_ignored")
    with pytest.raises(NinoxLookupUnreliable):
        grants(client, ninox).find({"Reference": "G-404"})
    with pytest.raises(NinoxLookupUnreliable):
        grants(client, ninox).first({"Reference": "G-2"})


def test_the_classic_only_calls_say_they_do_not_exist_here(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    db = client.database(ninox.team_id, ninox.database_id)
    for call in (lambda: db.query("1"), lambda: db.changes(0), lambda: db.table("Grants").get(1)):
        with pytest.raises(NinoxUnsupported) as raised:
            call()
        assert raised.value.permanent
    with pytest.raises(NinoxUnsupported):
        db.table("Grants").all(since_sq=5)


def test_an_error_object_becomes_the_errors_message(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    with pytest.raises(NinoxError, match="not found") as raised:
        client.database(ninox.team_id, "nope").schema()
    assert raised.value.status == 404


# ---- writing -------------------------------------------------------------------------------


def test_create_posts_the_values_and_returns_them_under_the_new_id(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    table = grants(client, ninox)
    created = table.create({"Reference": "APP-1", "Amount": Decimal("12.50"), "Lodge": 3})
    assert created.id == 4
    assert created["Amount"] == Decimal("12.50")
    assert [r["Amount"] for r in table.find({"Reference": "APP-1"})] == [Decimal("12.5")]


def test_update_patches_only_the_given_fields(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    table = grants(client, ninox)
    updated = table.update(2, {"Status": "Paid"})
    assert (updated.id, updated["Status"]) == (2, "Paid")
    (stored,) = table.find({"Reference": "G-2"})
    assert (stored["Status"], stored["Amount"]) == ("Paid", Decimal("200"))


def test_an_update_of_a_missing_record_changes_nothing_and_raises(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    table = grants(client, ninox)
    with pytest.raises(NinoxError) as raised:
        table.save_many(
            [{"id": 1, "fields": {"Status": "Paid"}}, {"id": 99, "fields": {"Status": "Paid"}}]
        )
    assert raised.value.status == 404
    assert "Status" not in table.find({"Reference": "G-1"})[0].fields


def test_a_reply_naming_another_record_is_refused(ninox: EmulatedNinox) -> None:
    def wrong_id(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            return httpx.Response(200, json={"data": {"updatedIds": ["3"]}})
        response = ninox.transport.handle_request(request)
        response.read()
        return response

    with (
        WorkspaceClient(
            token=ninox.token, base_url=ninox.base_url, transport=httpx.MockTransport(wrong_id)
        ) as client,
        pytest.raises(NinoxError, match="not \\[2\\]"),
    ):
        grants(client, ninox).update(2, {"Status": "Paid"})


def test_float_amounts_are_refused_before_any_call(
    client: WorkspaceClient, ninox: EmulatedNinox
) -> None:
    with pytest.raises((TypeError, ValueError)):
        grants(client, ninox).create({"Amount": 12.5})


# ---- the sync engine -----------------------------------------------------------------------


class ScopedMirror(Mirror):
    """A mirror that can say which of its ids a scope covers (as the grants mirror does)."""

    def ids_where(self, filters: dict[str, Any]) -> list[int]:
        return [i for i, r in self.rows.items() if all(r.get(k) == v for k, v in filters.items())]


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(ninox: EmulatedNinox, clock: Clock) -> Iterator[tuple[WorkspaceSyncEngine, Any]]:
    with ninox.api_client(now=clock) as client:
        mirrors = {"Lodges": Mirror(), "Grants": Mirror()}
        db = client.database(ninox.team_id, ninox.database_id)
        yield WorkspaceSyncEngine(db, InMemorySyncStateStore(), mirrors), mirrors


def test_a_first_sync_reads_every_table_whole(engine: tuple[WorkspaceSyncEngine, Any]) -> None:
    sync, mirrors = engine
    result = sync.sync()
    assert result.full
    assert (result.created, len(mirrors["Grants"].rows), len(mirrors["Lodges"].rows)) == (6, 3, 3)


def test_within_the_hour_an_idle_sync_costs_no_call(
    engine: tuple[WorkspaceSyncEngine, Any], clock: Clock
) -> None:
    sync, _ = engine
    sync.sync()
    clock.now += dt.timedelta(minutes=59)
    assert sync.sync().calls == 0


def test_the_hourly_full_read_picks_up_changes_and_reconciles_deletes(
    engine: tuple[WorkspaceSyncEngine, Any], ninox: EmulatedNinox, clock: Clock
) -> None:
    sync, mirrors = engine
    sync.sync()
    with ninox.client() as http:
        path = f"/api/v1/workspace/{ninox.team_id}/modules/{ninox.database_id}/tables/Grants"
        http.request("DELETE", path + "/records", json={"records": [2]})
        http.patch(path + "/records", json={"records": [{"id": 1, "Amount": "150"}]})
    clock.now += dt.timedelta(hours=1)
    result = sync.sync()
    assert result.deleted == 1
    assert sorted(mirrors["Grants"].rows) == [1, 3]
    assert mirrors["Grants"].rows[1]["Amount"] == Decimal("150")
    assert result.calls == 1 + 2  # the schema (hourly), then one page per table


def test_a_scoped_read_is_one_call_verified_and_deletes_nothing(
    engine: tuple[WorkspaceSyncEngine, Any], ninox: EmulatedNinox
) -> None:
    sync, mirrors = engine
    sync.sync()
    ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [{"Lodge": 1, "Reference": "G-4", "Amount": "5"}, {"Lodge": 2, "Reference": "G-5"}],
    )
    result = sync.sync(tables=["Grants"], scope={"Grants": {"Lodge": 1}})
    assert result.calls == 1
    assert sorted(mirrors["Grants"].rows) == [1, 2, 3, 4]  # lodge 2's new grant waits


class ComparingMirror(Mirror):
    """A mirror with the full-read hooks, noting what it held when each was called."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Any, Any]] = []

    def full_read_fetched(self, records: list[Any]) -> None:
        held = {i: r["Amount"] for i, r in self.rows.items()}
        self.seen.append(("fetched", {r.id: r["Amount"] for r in records}, held))

    def full_read_applied(self) -> None:
        self.seen.append(("applied", None, {i: r["Amount"] for i, r in self.rows.items()}))


def test_a_full_read_shows_the_whole_table_to_the_handler_before_the_mirror_changes(
    ninox: EmulatedNinox, clock: Clock
) -> None:
    with ninox.api_client(now=clock) as client:
        grants_mirror = ComparingMirror()
        db = client.database(ninox.team_id, ninox.database_id)
        sync = WorkspaceSyncEngine(
            db, InMemorySyncStateStore(), {"Lodges": Mirror(), "Grants": grants_mirror}, per_page=2
        )
        sync.sync()
        assert grants_mirror.seen == []  # a first load has nothing mirrored to compare with
        before = {i: r["Amount"] for i, r in grants_mirror.rows.items()}
        with ninox.client() as http:
            path = f"/api/v1/workspace/{ninox.team_id}/modules/{ninox.database_id}/tables/Grants"
            http.patch(path + "/records", json={"records": [{"id": 3, "Amount": "99"}]})
        clock.now += dt.timedelta(hours=1)
        sync.sync()

    (step, fetched, held), (after_step, _, after) = grants_mirror.seen
    assert (step, after_step) == ("fetched", "applied")
    assert sorted(fetched) == [1, 2, 3]  # both pages of 2, before anything was upserted
    assert fetched[3] == Decimal("99")
    assert held == before  # the mirror as it was
    assert after[3] == Decimal("99")


@pytest.fixture
def scoped(ninox: EmulatedNinox, clock: Clock) -> Iterator[tuple[WorkspaceSyncEngine, Any]]:
    """An engine over mirrors that can say which of their ids a scope covers, loaded."""
    with ninox.api_client(now=clock) as client:
        mirrors = {"Lodges": ScopedMirror(), "Grants": ScopedMirror()}
        db = client.database(ninox.team_id, ninox.database_id)
        sync = WorkspaceSyncEngine(db, InMemorySyncStateStore(), mirrors)
        sync.sync()
        yield sync, mirrors


def test_a_scoped_read_that_lacks_a_mirrored_record_removes_nothing_until_the_full_read(
    scoped: tuple[WorkspaceSyncEngine, Any], ninox: EmulatedNinox
) -> None:
    sync, mirrors = scoped
    with ninox.client() as http:
        path = f"/api/v1/workspace/{ninox.team_id}/modules/{ninox.database_id}/tables/Grants"
        http.request("DELETE", path + "/records", json={"records": [2, 3]})
    with pytest.raises(NinoxLookupUnreliable, match="lacks 1 record"):
        sync.sync(tables=["Grants"], scope={"Grants": {"Lodge": 1}})
    assert sorted(mirrors["Grants"].rows) == [1, 2, 3]  # deleted, or a filter read otherwise?
    result = sync.sync(tables=["Grants"], full=True)  # every record: now it is known
    assert (result.deleted, sorted(mirrors["Grants"].rows)) == (2, [1])


def test_a_reference_filter_that_matches_nothing_removes_nothing_and_says_so(
    scoped: tuple[WorkspaceSyncEngine, Any], ninox: EmulatedNinox
) -> None:
    sync, mirrors = scoped
    ninox.emulator.faults.configure("filter_ref_unmatched")
    with pytest.raises(NinoxLookupUnreliable, match="a filter this server reads otherwise"):
        sync.sync(tables=["Grants"], scope={"Grants": {"Lodge": 1}})
    assert sorted(mirrors["Grants"].rows) == [1, 2, 3]
    assert ninox.emulator.faults.injected["filter_ref_unmatched"] == 1


def test_a_scoped_read_on_a_reference_the_doctor_saw_fail_is_refused_without_a_call(
    ninox: EmulatedNinox, clock: Clock
) -> None:
    with ninox.api_client(now=clock) as client:
        mirrors = {"Lodges": ScopedMirror(), "Grants": ScopedMirror()}
        db = client.database(ninox.team_id, ninox.database_id)
        profile = CapabilityProfile(api="workspace", reference_filter=False)
        sync = WorkspaceSyncEngine(db, InMemorySyncStateStore(), mirrors, profile=profile)
        sync.sync()
        before = ninox.emulator.calls
        with pytest.raises(NinoxLookupUnreliable, match="the doctor saw a filter on a reference"):
            sync.sync(tables=["Grants"], scope={"Grants": {"Lodge": 1}})
        assert ninox.emulator.calls == before
        assert sync.sync(tables=["Grants"], scope={"Grants": {"Reference": "G-1"}}).calls == 1


def test_a_scoped_read_on_a_server_that_ignores_the_filter_fails_safe(
    engine: tuple[WorkspaceSyncEngine, Any], ninox: EmulatedNinox
) -> None:
    sync, _ = engine
    sync.sync()
    ninox.emulator.faults.configure("filter_ignored")
    with pytest.raises(NinoxLookupUnreliable):
        sync.sync(tables=["Grants"], scope={"Grants": {"Lodge": 1}})


def test_the_idle_budget_is_the_schema_and_one_full_read_of_each_table_an_hour(
    engine: tuple[WorkspaceSyncEngine, Any], clock: Clock
) -> None:
    sync, _ = engine
    assert sync.idle_calls_per_hour({"Lodges": 120, "Grants": 1500}) == 1 + 2 + 15
    sync.sync()
    spent = 0
    for _ in range(12):  # beat's five-minute syncs over the next hour
        clock.now += dt.timedelta(minutes=5)
        spent += sync.sync().calls
    assert spent == sync.idle_calls_per_hour({"Lodges": 3, "Grants": 3}) == 3


def test_the_demo_mirrors_in_eighteen_calls() -> None:
    with demo_ninox(seed=42, dialect="workspace") as ninox, ninox.api_client() as client:
        mirrors = {"Lodges": Mirror(), "Grants": Mirror()}
        db = client.database(ninox.team_id, ninox.database_id)
        result = WorkspaceSyncEngine(db, InMemorySyncStateStore(), mirrors).sync()
    assert (len(mirrors["Lodges"].rows), len(mirrors["Grants"].rows)) == (120, 1500)
    assert result.calls == 1 + 2 + 15  # the schema, then 100-row pages
