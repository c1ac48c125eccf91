"""``sync_mirror``: the portal's mirror with the stored profile, per-table refreshes, errors kept."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from grants.models import Lodge, NinoxGrant
from ninox_backend.ninox import mirror
from ninox_backend.ninox.connection import database
from ninox_backend.ninox.mirror import DatabaseSyncStateStore, state_key, sync_mirror, sync_status
from ninox_backend.ninox.models import SyncState as SyncStateRow
from ninox_backend.ninox.profile_store import save_profile
from ninox_backend.profile import CapabilityProfile
from ninox_backend.sync import SyncState

pytestmark = pytest.mark.django_db


def test_a_refresh_of_grants_only_reads_grants_and_keeps_the_lodges_mark(ninox: Any) -> None:
    sync_mirror()
    sync_mirror()
    db = database()
    lodge = Lodge.objects.order_by("ninox_id").first()
    assert lodge is not None
    db.table("Lodges").update(lodge.ninox_id, {"Name": "Renamed in Ninox"})
    grant = db.table("Grants").create(
        {"Reference": "HAND-1", "Amount": Decimal("3900.00"), "Lodge": lodge.ninox_id}
    )
    marks_before = DatabaseSyncStateStore().get(state_key()).marks
    calls = ninox.emulator.calls
    result = sync_mirror(tables=["grants"])
    assert result.tables == ("Grants",)
    assert ninox.emulator.calls - calls == 1
    assert NinoxGrant.objects.get(ninox_id=grant.id).amount == Decimal("3900.00")
    assert Lodge.objects.get(id=lodge.id).name != "Renamed in Ninox"
    assert DatabaseSyncStateStore().get(state_key()).marks["Lodges"] == marks_before["Lodges"]
    sync_mirror()
    assert Lodge.objects.get(id=lodge.id).name == "Renamed in Ninox"


def test_without_a_stored_profile_the_mirror_reads_records_since_sq(ninox: Any) -> None:
    sync_mirror()
    assert sync_mirror().mode == "records"


@pytest.mark.parametrize("ninox_dialect", ["legacy"])  # the docs dialect's feed is a bare list
def test_a_stored_profile_with_the_feed_shown_to_work_turns_the_feed_on(ninox: Any) -> None:
    save_profile(CapabilityProfile(change_feed=True, checked_at=datetime.now(UTC)))
    sync_mirror()
    assert sync_mirror().mode == "feed"


def test_any_failure_is_recorded_as_the_last_error_and_raised(
    ninox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def upsert(self, records: list[Any]) -> None:
            raise RuntimeError("the mirror table is locked")

        def delete(self, ids: list[int]) -> None:
            raise RuntimeError("the mirror table is locked")

    monkeypatch.setitem(mirror._handlers, "grants", Broken)
    with pytest.raises(RuntimeError):
        sync_mirror()
    status = sync_status()
    assert status is not None
    assert status.last_error == "RuntimeError: the mirror table is locked"
    assert status.high_water is None  # nothing was stored as synced


def test_the_stored_state_holds_exact_decimals_from_the_schema(ninox: Any) -> None:
    schema = {"settings": {}, "schema": {"types": {"A": {"formWidth": Decimal("0.5")}}}}
    store = DatabaseSyncStateStore()
    store.set("ninox:test", SyncState(high_water=3, marks={"Grants": 3}, schema=schema))
    row = SyncStateRow.objects.get(key="ninox:test")
    row.refresh_from_db()
    again = store.get("ninox:test")
    assert again.schema["schema"]["types"]["A"]["formWidth"] == Decimal("0.5")
    assert again.marks == {"Grants": 3}
