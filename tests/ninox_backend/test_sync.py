"""The sync engine: per-table marks with records?sinceSq=, the strict feed, reconciliation."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from ninox_fakes import DB, SCHEMA, FakeNinox, reply

from ninox_backend import NinoxNotFound, NinoxSyncError, Record
from ninox_backend.profile import CapabilityProfile
from ninox_backend.sync import (
    InMemorySyncStateStore,
    SyncEngine,
    SyncProgress,
    SyncState,
)

FEED_SHOWN_TO_WORK = CapabilityProfile(change_feed=True)


class StatefulNinox(FakeNinox):
    """Canned schema plus live records, sequences and a change log for tables A and B."""

    def __init__(self, *, feed: str = "emulator") -> None:
        super().__init__()
        self.seq = 0
        self.tables: dict[str, dict[int, dict[str, Any]]] = {"A": {}, "B": {}}
        self.log: list[dict[str, Any]] = []
        self.add_pattern("GET", DB + r"/tables/(A|B)/records", self.list_records)
        if feed == "emulator":
            self.add("GET", DB + "/changes", self.changes)
        elif feed == "bare":
            self.add("GET", DB + "/changes", self.bare_changes)
        else:
            self.add("GET", DB + "/changes", reply(404, {"message": "no such endpoint"}))

    def write(self, table: str, rid: int, **fields: Any) -> None:
        self.seq += 1
        op = "update" if rid in self.tables[table] else "create"
        row = {"id": rid, "sequence": self.seq, "fields": fields}
        self.tables[table][rid] = row
        self.log.append({"seq": self.seq, "table": table, "id": rid, "op": op, "record": row})

    def remove(self, table: str, rid: int) -> None:
        self.seq += 1
        del self.tables[table][rid]
        self.log.append(
            {"seq": self.seq, "table": table, "id": rid, "op": "delete", "record": None}
        )

    def list_records(self, request: httpx.Request) -> httpx.Response:
        table = request.url.path.split("/")[-2]
        params = request.url.params
        page, per_page = int(params.get("page", 0)), int(params.get("perPage", 100))
        since = int(params.get("sinceSq", -1))
        rows = [r for _, r in sorted(self.tables[table].items()) if r["sequence"] > since]
        return reply(200, rows[page * per_page : (page + 1) * per_page])

    def changes(self, request: httpx.Request) -> httpx.Response:
        since = int(request.url.params.get("sinceSq", 0))
        return reply(200, {"seq": self.seq, "changes": [c for c in self.log if c["seq"] > since]})

    def bare_changes(self, request: httpx.Request) -> httpx.Response:
        since = int(request.url.params.get("sinceSq", 0))
        rows = [r for t in self.tables.values() for r in t.values() if r["sequence"] > since]
        return reply(200, rows)


class Mirror:
    """A handler that keeps records in a dict, recording what it was told."""

    def __init__(self, *, with_ids: bool = True, with_sequences: bool = False) -> None:
        self.rows: dict[int, Record] = {}
        self.upserts: list[list[int]] = []
        self.deletes: list[list[int]] = []
        self.resets = 0
        if with_ids:
            self.ids = lambda: list(self.rows)
        if with_sequences:
            self.sequences = lambda: {rid: r.sequence for rid, r in self.rows.items()}

    def upsert(self, records: list[Record]) -> None:
        self.upserts.append([r.id for r in records])
        for record in records:
            self.rows[record.id] = record

    def delete(self, ids: list[int]) -> None:
        self.deletes.append(ids)
        for rid in ids:
            self.rows.pop(rid, None)


def engine_for(fake: FakeNinox, mirrors: dict[str, Any], **kwargs: Any) -> SyncEngine:
    client = fake.client(now=kwargs.pop("now", None))
    store = kwargs.pop("store", InMemorySyncStateStore())
    return SyncEngine(client.database("t1", "db1"), store, mirrors, per_page=2, **kwargs)


def seeded(feed: str = "emulator") -> StatefulNinox:
    fake = StatefulNinox(feed=feed)
    fake.write("A", 1, Number=1, Name="One")
    fake.write("A", 2, Number=2, Name="Two")
    for rid in range(1, 4):
        fake.write("B", rid, Amount=Decimal(f"{rid}00.50"), Lodge=1)
    return fake


def test_the_first_sync_loads_every_mapped_table_without_asking_the_change_feed() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    result = engine_for(fake, {"Lodges": lodges, "Grants": grants}).sync()
    assert sorted(lodges.rows) == [1, 2]
    assert sorted(grants.rows) == [1, 2, 3]
    assert grants.rows[2]["Amount"] == Decimal("200.50")
    assert (result.full, result.created, result.mode) == (True, 5, "records")
    assert fake.calls("GET", DB + "/changes") == []


def test_each_table_gets_the_greatest_sequence_of_its_first_page_as_its_mark() -> None:
    fake = seeded()  # Lodges at sequences 1, 2; Grants at 3, 4, 5; two records a page
    store = InMemorySyncStateStore()
    result = engine_for(fake, {"Lodges": Mirror(), "Grants": Mirror()}, store=store).sync()
    state = store.get("ninox:t1/db1")
    assert state.marks == {"Lodges": 2, "Grants": 4}
    assert result.high_water == 2  # the lowest mark, for the health page


def test_a_change_made_while_paging_is_read_next_time() -> None:
    fake = seeded()
    original = fake.list_records

    def write_during_load(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "1" and "/B/" in request.url.path:
            # Page 0 (grants 1 and 2) is read; grant 1 changes, then grant 3 after it.
            fake.write("B", 1, Amount=Decimal("111.00"), Lodge=1)
            fake.write("B", 3, Amount=Decimal("333.00"), Lodge=1)
        return original(request)

    fake.add_pattern("GET", DB + r"/tables/(A|B)/records", write_during_load)
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    engine.sync()
    assert grants.rows[1]["Amount"] == Decimal("100.50")  # read before it changed
    assert grants.rows[3]["Amount"] == Decimal("333.00")  # a mark of 7 would skip grant 1
    engine.sync()
    assert grants.rows[1]["Amount"] == Decimal("111.00")


def test_after_a_full_load_the_tail_is_read_once_and_then_one_call_suffices() -> None:
    fake = StatefulNinox()
    for rid in range(1, 11):  # created in id order, so the first page holds the lowest sequences
        fake.write("B", rid, Amount=rid)
    store = InMemorySyncStateStore()
    engine = engine_for(fake, {"Grants": Mirror()}, store=store)
    engine.sync()
    assert store.get("ninox:t1/db1").marks["Grants"] == 2
    second = engine.sync()
    assert second.updated == 8
    assert store.get("ninox:t1/db1").marks["Grants"] == 10
    assert engine.sync().calls == 1


def test_a_change_made_while_the_tail_is_re_read_is_read_next_time() -> None:
    fake = StatefulNinox()
    for rid in range(1, 11):
        fake.write("B", rid, Amount=rid)
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    engine.sync()
    original = fake.list_records

    def write_during_read(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("sinceSq") == "2" and request.url.params.get("page") == "2":
            fake.write("B", 3, Amount=Decimal("3900.00"))  # on page 0, already read
            fake.write("B", 9, Amount=Decimal("9.50"))  # on page 3, not yet read
        return original(request)

    fake.add_pattern("GET", DB + r"/tables/(A|B)/records", write_during_read)
    engine.sync()
    assert grants.rows[3]["Amount"] == Decimal("3")
    assert grants.rows[9]["Amount"] == Decimal("9.50")  # a mark of its sequence would skip 3
    engine.sync()
    assert grants.rows[3]["Amount"] == Decimal("3900.00")


def test_an_incremental_sync_with_nothing_new_costs_one_call_per_table() -> None:
    fake = seeded()
    engine = engine_for(fake, {"Lodges": Mirror(), "Grants": Mirror()})
    engine.sync()
    engine.sync()  # re-reads what lay above the first page's mark
    before = len(fake.requests)
    result = engine.sync()
    assert len(fake.requests) - before == 2
    assert result.calls == 2
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)
    assert [r.url.params["sinceSq"] for r in fake.requests[before:]] == ["2", "5"]


def test_a_new_process_with_saved_state_also_needs_only_one_call() -> None:
    fake = seeded()
    store = InMemorySyncStateStore()
    engine_for(fake, {"Grants": Mirror()}, store=store).sync()
    engine_for(fake, {"Grants": Mirror()}, store=store).sync()
    before = len(fake.requests)
    result = engine_for(fake, {"Grants": Mirror()}, store=store).sync()  # a fresh client
    assert result.calls == 1
    assert len(fake.requests) - before == 1


def test_the_schema_is_re_read_once_it_is_an_hour_old() -> None:
    now = [dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)]
    fake = seeded()
    store = InMemorySyncStateStore()
    engine_for(fake, {"Grants": Mirror()}, store=store, now=lambda: now[0]).sync()
    now[0] += dt.timedelta(minutes=61)
    result = engine_for(fake, {"Grants": Mirror()}, store=store, now=lambda: now[0]).sync()
    assert result.calls == 2
    assert len(fake.calls("GET", DB)) == 2


def test_incremental_syncs_read_records_since_each_tables_own_mark() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants})
    engine.sync()
    fake.write("B", 2, Amount=Decimal("7.00"))
    fake.write("A", 6, Number=6, Name="Six")
    result = engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("7.00")
    assert 6 in lodges.rows
    assert result.mode == "records"
    assert fake.calls("GET", DB + "/changes") == []
    since = [r.url.params.get("sinceSq") for r in fake.calls("GET", DB + "/tables/B/records")]
    assert since[-1] == "4"


def test_a_refresh_of_grants_only_leaves_the_lodges_mark_where_it_was() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    store = InMemorySyncStateStore()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants}, store=store)
    engine.sync()
    fake.write("A", 1, Number=1, Name="Renamed in Ninox")  # seq 6
    fake.write("B", 4, Amount=Decimal("50.00"), Lodge=1)  # seq 7
    before = len(fake.requests)
    result = engine.sync(tables=["Grants"])
    assert result.tables == ("Grants",)
    assert all("/tables/B/" in str(r.url) for r in fake.requests[before:])
    assert 4 in grants.rows
    assert lodges.rows[1]["Name"] == "One"
    assert store.get("ninox:t1/db1").marks["Lodges"] == 2  # a shared mark of 7 would skip seq 6
    engine.sync()
    assert lodges.rows[1]["Name"] == "Renamed in Ninox"


def test_tables_may_be_named_by_id_and_an_unmapped_one_is_refused() -> None:
    fake = seeded()
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    assert engine.sync(tables=["B"]).tables == ("Grants",)
    with pytest.raises(ValueError, match="no sync handler"):
        engine.sync(tables=["Lodges"])
    with pytest.raises(NinoxNotFound):
        engine.sync(tables=["Nope"])


def test_a_table_synced_for_the_first_time_is_loaded_in_full() -> None:
    fake = seeded()
    store = InMemorySyncStateStore()
    engine_for(fake, {"Grants": Mirror()}, store=store).sync()
    lodges = Mirror()
    result = engine_for(fake, {"Grants": Mirror(), "Lodges": lodges}, store=store).sync()
    assert sorted(lodges.rows) == [1, 2]
    assert result.full is False
    assert result.created == 2


def test_a_state_from_before_per_table_marks_holds_its_mark_for_every_table() -> None:
    fake = seeded()
    store = InMemorySyncStateStore()
    store.set("ninox:t1/db1", SyncState(high_water=5, mode="feed"))
    grants = Mirror()
    fake.write("B", 2, Amount=Decimal("8.00"))
    result = engine_for(fake, {"Lodges": Mirror(), "Grants": grants}, store=store).sync()
    assert result.full is False
    assert grants.rows[2]["Amount"] == Decimal("8.00")
    assert store.get("ninox:t1/db1").marks == {"Lodges": 5, "Grants": 6}


def test_sync_is_idempotent() -> None:
    fake = seeded()
    grants = Mirror()
    store = InMemorySyncStateStore()
    engine = engine_for(fake, {"Grants": grants}, store=store)
    engine.sync()
    fake.write("B", 1, Amount=5)
    engine.sync()
    snapshot = dict(grants.rows)
    engine.sync()
    engine.sync(full=True)
    assert grants.rows == snapshot


def test_a_full_sync_calls_reset_first() -> None:
    fake = seeded()

    class Resettable(Mirror):
        def reset(self) -> None:
            self.resets += 1
            self.rows.clear()

    grants = Resettable()
    engine = engine_for(fake, {"Grants": grants})
    engine.sync()
    engine.sync(full=True)
    assert grants.resets == 2
    assert sorted(grants.rows) == [1, 2, 3]


def test_a_full_sync_without_reset_deletes_what_ninox_no_longer_has() -> None:
    fake = seeded()
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    engine.sync()
    del fake.tables["B"][2]  # gone without a trace
    result = engine.sync(full=True)
    assert sorted(grants.rows) == [1, 3]
    assert result.deleted == 1


def test_handlers_may_be_keyed_by_table_id() -> None:
    fake = seeded()
    grants = Mirror()
    engine = engine_for(fake, {"B": grants})
    engine.sync()
    fake.write("B", 9, Amount=1)
    engine.sync()
    assert 9 in grants.rows


# ---- the change feed, only where the profile says it works ----------------------------------


def test_with_the_feed_shown_to_work_changes_come_from_one_feed_call() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants}, profile=FEED_SHOWN_TO_WORK)
    engine.sync()
    fake.write("B", 4, Amount=Decimal("9.99"), Lodge=2)
    fake.write("B", 2, Amount=Decimal("250.00"), Lodge=1)
    fake.write("B", 2, Amount=Decimal("260.00"), Lodge=1)
    fake.remove("B", 3)
    fake.write("A", 2, Number=2, Name="Two (renamed)")
    fake.write("B", 5, Amount=1)
    fake.remove("B", 5)  # created and deleted since the last sync: never upserted
    result = engine.sync()
    assert result.calls == 1
    assert result.mode == "feed"
    assert (result.created, result.updated) == (1, 2)
    assert sorted(grants.rows) == [1, 2, 4]
    assert grants.rows[2]["Amount"] == Decimal("260.00")
    assert 5 not in grants.upserts[-1]
    # Grant 3 was created above the first page's mark and read by the load: its delete counts.
    assert grants.deletes == [[3, 5]]
    assert lodges.rows[2]["Name"] == "Two (renamed)"
    assert result.high_water == fake.seq


def test_the_feed_asks_from_the_lowest_mark_and_skips_what_a_table_already_has() -> None:
    fake = seeded()
    grants = Mirror()
    engine = engine_for(fake, {"Lodges": Mirror(), "Grants": grants}, profile=FEED_SHOWN_TO_WORK)
    engine.sync()  # marks: Lodges 2, Grants 4
    grants.upserts.clear()
    engine.sync()
    assert fake.calls("GET", DB + "/changes")[0].url.params["sinceSq"] == "2"
    assert grants.upserts == [[3]]  # seq 5; grants at seq 3 and 4 were applied already


def test_a_feed_refresh_of_grants_only_does_not_move_the_lodges_mark() -> None:
    fake = seeded()
    lodges = Mirror()
    store = InMemorySyncStateStore()
    engine = engine_for(
        fake, {"Lodges": lodges, "Grants": Mirror()}, profile=FEED_SHOWN_TO_WORK, store=store
    )
    engine.sync()
    fake.write("A", 1, Number=1, Name="Renamed")
    engine.sync(tables=["Grants"])
    assert lodges.rows[1]["Name"] == "One"
    assert store.get("ninox:t1/db1").marks["Lodges"] == 2
    engine.sync()
    assert lodges.rows[1]["Name"] == "Renamed"


def strict_feed(answer: Any) -> tuple[StatefulNinox, Mirror, InMemorySyncStateStore, SyncEngine]:
    fake = seeded()
    grants = Mirror()
    store = InMemorySyncStateStore()
    engine = engine_for(fake, {"Grants": grants}, profile=FEED_SHOWN_TO_WORK, store=store)
    engine.sync()
    engine.sync()
    fake.add("GET", DB + "/changes", reply(200, answer))
    return fake, grants, store, engine


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ({"seq": 9, "changes": [{"seq": 9, "table": "Z", "id": 1, "op": "update"}]}, "table"),
        ({"seq": 9, "changes": [{"seq": 9, "id": 1, "op": "update"}]}, "table"),
        ({"seq": 9, "changes": [{"seq": 9, "table": "B", "id": "B1", "op": "update"}]}, "id"),
        (
            {"seq": 9, "changes": [{"seq": 9, "table": "B", "id": Decimal("1.5"), "op": "update"}]},
            "id",
        ),
        ({"seq": 9, "changes": [{"seq": 9, "table": "B", "id": 1, "op": "merge"}]}, "operation"),
        ({"seq": 9, "changes": ["B1"]}, "object"),
        ([{"id": 1, "sequence": 9, "fields": {"Amount": 3900}}], "changes"),
        ({"seq": 9, "records": [{"id": 1, "sequence": 9}]}, "changes"),
        ({"seq": "latest", "changes": []}, "sequence"),
    ],
)
def test_a_feed_change_that_cannot_be_applied_stops_the_sync_and_the_mark_stays(
    answer: Any, why: str
) -> None:
    _, grants, store, engine = strict_feed(answer)
    before = store.get("ninox:t1/db1").marks
    grants.upserts.clear()
    with pytest.raises(NinoxSyncError, match=why) as caught:
        engine.sync()
    assert "cannot apply" in str(caught.value)
    assert store.get("ninox:t1/db1").marks == before
    assert grants.upserts == []
    assert grants.deletes == []


@pytest.mark.parametrize(
    "failure",
    [
        reply(400, text="Bad Request"),
        reply(403, text="Forbidden"),
        reply(404, text="Not Found"),
        reply(500, {"message": "boom"}),
        httpx.ReadTimeout("timed out"),
    ],
    ids=["400", "403", "404", "500", "timeout"],
)
def test_a_failed_feed_call_means_no_feed_for_that_run(failure: Any) -> None:
    fake = seeded()
    fake.add("GET", DB + "/changes", failure)
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants}, profile=FEED_SHOWN_TO_WORK)
    assert engine.sync().full is True  # the first load never depends on the feed
    fake.write("B", 2, Amount=Decimal("7.00"))
    result = engine.sync()
    assert result.mode == "records"
    assert grants.rows[2]["Amount"] == Decimal("7.00")


def test_without_the_profile_a_working_feed_is_still_not_used() -> None:
    fake = seeded()
    engine = engine_for(fake, {"Grants": Mirror()})
    engine.sync()
    fake.write("B", 2, Amount=Decimal("7.00"))
    engine.sync()
    assert fake.calls("GET", DB + "/changes") == []


# ---- the daily reconciliation -----------------------------------------------------------


def reconciling(grants: Mirror, now: list[dt.datetime]) -> tuple[StatefulNinox, SyncEngine]:
    fake = seeded()
    engine = engine_for(
        fake, {"Grants": grants}, now=lambda: now[0], reconcile_every=dt.timedelta(hours=6)
    )
    engine.sync()
    return fake, engine


def test_the_reconciliation_repairs_an_update_the_incremental_reads_missed() -> None:
    now = [dt.datetime(2026, 5, 1, tzinfo=dt.UTC)]
    grants = Mirror(with_sequences=True)
    fake, engine = reconciling(grants, now)
    engine.sync()
    # A change the sinceSq reads cannot see: its sequence is below the mark.
    fake.tables["B"][2] = {"id": 2, "sequence": 1, "fields": {"Amount": Decimal("3900.00")}}
    now[0] += dt.timedelta(hours=1)
    engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("200.50")  # not due yet
    now[0] += dt.timedelta(hours=6)
    result = engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("3900.00")
    assert result.updated == 1


def test_the_reconciliation_catches_deletes_and_records_the_mirror_lacks() -> None:
    now = [dt.datetime(2026, 5, 1, tzinfo=dt.UTC)]
    grants = Mirror()  # ids() only
    fake, engine = reconciling(grants, now)
    del fake.tables["B"][3]
    del grants.rows[1]
    now[0] += dt.timedelta(hours=7)
    result = engine.sync()
    assert sorted(grants.rows) == [1, 2]
    assert result.deleted == 1


def test_each_table_is_reconciled_on_its_own_schedule() -> None:
    now = [dt.datetime(2026, 5, 1, tzinfo=dt.UTC)]
    fake = seeded()
    lodges, grants = Mirror(with_sequences=True), Mirror(with_sequences=True)
    engine = engine_for(
        fake, {"Lodges": lodges, "Grants": grants}, now=lambda: now[0],
        reconcile_every=dt.timedelta(hours=6),
    )  # fmt: skip
    engine.sync()
    del fake.tables["A"][2]
    now[0] += dt.timedelta(hours=7)
    engine.sync(tables=["Grants"])  # reconciles Grants only
    assert 2 in lodges.rows
    engine.sync()
    assert 2 not in lodges.rows


# ---- progress, the optional estimate, the stored state ----------------------------------


def test_progress_is_reported_per_page() -> None:
    fake = seeded()
    seen: list[SyncProgress] = []
    engine_for(fake, {"Grants": Mirror()}, progress=seen.append).sync()
    assert [(p.table, p.done, p.phase) for p in seen] == [
        ("Grants", 2, "load"),
        ("Grants", 3, "load"),
    ]


@pytest.mark.parametrize(
    "answer",
    [
        reply(400, text="count is not allowed here"),
        reply(403, text="Forbidden"),
        reply(500, {"message": "boom"}),
        reply(200, {"count": 3}),
        reply(200, "three"),
    ],
    ids=["400", "403", "500", "object", "text"],
)
def test_an_estimate_that_fails_never_stops_a_sync(answer: Any) -> None:
    fake = seeded()
    fake.add("POST", DB + "/query", answer)
    seen: list[SyncProgress] = []
    grants = Mirror()
    engine_for(fake, {"Grants": grants}, progress=seen.append, estimate_totals=True).sync()
    assert sorted(grants.rows) == [1, 2, 3]
    assert {p.total for p in seen} == {None}


def test_an_estimate_that_works_gives_the_total() -> None:
    fake = seeded()
    fake.add("POST", DB + "/query", reply(200, 3))
    seen: list[SyncProgress] = []
    engine_for(fake, {"Grants": Mirror()}, progress=seen.append, estimate_totals=True).sync()
    assert {p.total for p in seen} == {3}


def test_the_state_survives_a_json_round_trip_with_exact_decimals() -> None:
    schema = json.loads(json.dumps(SCHEMA))
    schema["schema"]["types"]["A"]["fields"]["A"]["formWidth"] = Decimal("0.5")
    state = SyncState(
        high_water=5,
        marks={"Lodges": 5, "Grants": 7},
        schema_checked_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        schema=schema,
        mode="records",
        reconciled={"Grants": dt.datetime(2026, 5, 1, 3, tzinfo=dt.UTC)},
    )
    text = json.dumps(state.to_json())  # what a JSONField does: no "Decimal is not serializable"
    again = SyncState.from_json(json.loads(text))
    assert again == state
    assert again.schema["schema"]["types"]["A"]["fields"]["A"]["formWidth"] == Decimal("0.5")
    assert SyncState.from_json(None) == SyncState()


def test_a_schema_with_fractional_numbers_is_stored_and_used_by_the_next_process() -> None:
    fake = FakeNinox(schema=False)
    schema = json.loads(json.dumps(SCHEMA))
    schema["schema"]["types"]["B"]["fields"]["A"]["formWidth"] = Decimal("0.5")
    fake.add("GET", DB, reply(200, schema))
    fake.add("GET", DB + "/tables/B/records", reply(200, []))

    class JsonStore:
        """Stores the state as JSON text, as a JSONField does."""

        text: dict[str, str] = {}

        def set(self, key: str, state: SyncState) -> None:
            self.text[key] = json.dumps(state.to_json())

        def get(self, key: str) -> SyncState:
            return SyncState.from_json(json.loads(self.text[key]) if key in self.text else None)

    store = JsonStore()
    engine_for(fake, {"Grants": Mirror()}, store=store).sync()
    result = engine_for(fake, {"Grants": Mirror()}, store=store).sync()
    assert result.calls == 1  # the stored schema served the new process


def test_a_schema_given_with_floats_is_stored_exactly_too() -> None:
    state = SyncState(schema={"schema": {"types": {"A": {"formWidth": 0.5}}}})
    again = SyncState.from_json(json.loads(json.dumps(state.to_json())))
    assert again.schema["schema"]["types"]["A"]["formWidth"] == Decimal("0.5")
