"""The sync engine: first load, incremental from one change-feed call, deletes, fallback."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from ninox_fakes import DB, SCHEMA, FakeNinox, reply

from ninox_backend import Record
from ninox_backend.sync import (
    InMemorySyncStateStore,
    SyncEngine,
    SyncProgress,
    SyncState,
)


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

    def __init__(self, *, with_ids: bool = True) -> None:
        self.rows: dict[int, Record] = {}
        self.upserts: list[list[int]] = []
        self.deletes: list[list[int]] = []
        self.resets = 0
        if with_ids:
            self.ids = lambda: list(self.rows)

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


def test_the_first_sync_loads_every_mapped_table() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    result = engine_for(fake, {"Lodges": lodges, "Grants": grants}).sync()
    assert sorted(lodges.rows) == [1, 2]
    assert sorted(grants.rows) == [1, 2, 3]
    assert grants.rows[2]["Amount"] == Decimal("200.50")
    assert (result.full, result.created, result.high_water, result.mode) == (True, 5, 5, "feed")


def test_the_high_water_mark_is_taken_before_paging() -> None:
    fake = seeded()
    original = fake.list_records

    def write_during_load(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "0" and "/B/" in request.url.path:
            fake.write("A", 1, Number=1, Name="Renamed during the load")
        return original(request)

    fake.add_pattern("GET", DB + r"/tables/(A|B)/records", write_during_load)
    lodges, grants = Mirror(), Mirror()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants})
    assert engine.sync().high_water == 5
    engine.sync()
    assert lodges.rows[1]["Name"] == "Renamed during the load"


def test_an_incremental_sync_with_nothing_new_costs_exactly_one_call() -> None:
    fake = seeded()
    engine = engine_for(fake, {"Lodges": Mirror(), "Grants": Mirror()})
    engine.sync()
    before = len(fake.requests)
    result = engine.sync()
    assert len(fake.requests) - before == 1
    assert result.calls == 1
    assert (result.created, result.updated, result.deleted) == (0, 0, 0)


def test_a_new_process_with_saved_state_also_needs_only_one_call() -> None:
    fake = seeded()
    store = InMemorySyncStateStore()
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


def test_an_incremental_sync_dispatches_creates_updates_and_deletes_by_table() -> None:
    fake = seeded()
    lodges, grants = Mirror(), Mirror()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants})
    engine.sync()
    fake.write("B", 4, Amount=Decimal("9.99"), Lodge=2)
    fake.write("B", 2, Amount=Decimal("250.00"), Lodge=1)
    fake.write("B", 2, Amount=Decimal("260.00"), Lodge=1)
    fake.remove("B", 3)
    fake.write("A", 2, Number=2, Name="Two (renamed)")
    fake.write("B", 5, Amount=1)
    fake.remove("B", 5)  # created and deleted since the last sync: nothing to do
    lodges.upserts.clear()
    grants.upserts.clear()
    result = engine.sync()
    assert result.calls == 1
    assert (result.created, result.updated, result.deleted) == (1, 2, 1)
    assert sorted(grants.rows) == [1, 2, 4]
    assert grants.rows[2]["Amount"] == Decimal("260.00")
    assert grants.deletes == [[3]]
    assert lodges.rows[2]["Name"] == "Two (renamed)"
    assert result.high_water == fake.seq


def test_changes_for_unmapped_tables_are_ignored() -> None:
    fake = seeded()
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    engine.sync()
    fake.write("A", 1, Number=1, Name="changed")
    grants.upserts.clear()
    result = engine.sync()
    assert (result.created, result.updated, grants.upserts) == (0, 0, [])
    assert result.high_water == fake.seq


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
    del fake.tables["B"][2]  # gone without a trace in the feed
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


def test_without_a_change_feed_it_falls_back_to_records_since_sq() -> None:
    fake = seeded(feed="none")
    lodges, grants = Mirror(), Mirror()
    engine = engine_for(fake, {"Lodges": lodges, "Grants": grants})
    first = engine.sync()
    assert first.mode == "records"
    assert first.high_water == 5
    fake.write("B", 2, Amount=Decimal("7.00"))
    fake.write("A", 6, Number=6, Name="Six")
    result = engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("7.00")
    assert 6 in lodges.rows
    assert result.updated == 2
    assert result.calls == 2  # one records?sinceSq= call per mapped table
    since = [r.url.params.get("sinceSq") for r in fake.calls("GET", DB + "/tables/B/records")]
    assert since[-1] == "5"


def test_a_bare_array_feed_also_uses_the_records_fallback() -> None:
    fake = seeded(feed="bare")
    grants = Mirror()
    engine = engine_for(fake, {"Grants": grants})
    assert engine.sync().mode == "records"
    fake.write("B", 2, Amount=Decimal("7.00"))
    engine.sync()
    assert grants.rows[2]["Amount"] == Decimal("7.00")


def test_without_a_feed_a_periodic_reconciliation_catches_deletes() -> None:
    now = [dt.datetime(2026, 5, 1, tzinfo=dt.UTC)]
    fake = seeded(feed="none")
    grants = Mirror()
    store = InMemorySyncStateStore()
    engine = engine_for(
        fake, {"Grants": grants}, store=store, now=lambda: now[0],
        reconcile_every=dt.timedelta(hours=6),
    )  # fmt: skip
    engine.sync()
    del fake.tables["B"][3]
    now[0] += dt.timedelta(hours=1)
    assert engine.sync().deleted == 0  # not due yet
    now[0] += dt.timedelta(hours=6)
    result = engine.sync()
    assert result.deleted == 1
    assert sorted(grants.rows) == [1, 2]


def test_progress_is_reported_per_page() -> None:
    fake = seeded()
    seen: list[SyncProgress] = []
    engine_for(fake, {"Grants": Mirror()}, progress=seen.append).sync()
    assert [(p.table, p.done, p.phase) for p in seen] == [
        ("Grants", 2, "load"),
        ("Grants", 3, "load"),
    ]


def test_the_state_survives_a_json_round_trip() -> None:
    state = SyncState(
        high_water=5,
        schema_checked_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        schema=SCHEMA,
        mode="feed",
    )
    assert SyncState.from_json(state.to_json()) == state
    assert SyncState.from_json(None) == SyncState()
