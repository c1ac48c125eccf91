"""The refresh before a decision: never a 500, Grants only unless the lodge is unknown."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from grants.models import Application, Lodge, NinoxGrant, Status
from grants.rules import current_fiscal_year
from grants.services import mirror_refresh as mirror_service
from grants.services.api_tokens import api_token_create
from grants.services.mirror_refresh import (
    NINOX_UNCONFIRMED,
    NINOX_UNREACHABLE,
    Freshness,
    mirror_refresh,
)
from grants.services.refresh_flight import FileFlightStore, RefreshFlight
from grants.services.submit import application_submit
from grants.sync_handlers import GrantHandler
from ninox_backend.ninox.mirror import sync_mirror
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = [pytest.mark.django_db, pytest.mark.db_engine]


def add_grant_in_ninox(ninox: Any, lodge: Lodge) -> None:
    """A change for the next sync to store."""
    ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("10.00"),
                "Grant Date": current_fiscal_year().start.isoformat(),
                "Status": "Paid",
            }
        ],
    )


@pytest.fixture(params=["type error", "database error"])
def storing_fails(request: Any, mirrored: Any, fresh_lodge: Lodge, monkeypatch: Any) -> str:
    """Ninox answers, but storing what it sent fails with something that is not a NinoxError."""
    failure = (
        TypeError("Object of type Decimal is not JSON serializable")
        if request.param == "type error"
        else DatabaseError("disk I/O error")
    )

    def upsert(self: GrantHandler, records: list[Any]) -> None:
        raise failure

    monkeypatch.setattr(GrantHandler, "upsert", upsert)
    add_grant_in_ninox(mirrored, fresh_lodge)
    return type(failure).__name__


def test_a_failure_that_is_not_a_ninox_error_is_logged_with_its_traceback(
    storing_fails: str, caplog: Any
) -> None:
    with caplog.at_level(logging.ERROR, logger="grants"):
        freshness = mirror_refresh()
    assert freshness.fresh is False
    assert storing_fails in freshness.problem
    [logged] = [r for r in caplog.records if r.name == "grants"]
    assert logged.exc_info is not None  # the traceback, for staff
    assert "test-token" not in caplog.text  # never the key


@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs", "workspace"])
def test_the_api_still_answers_201_with_needs_review_and_the_reason(
    storing_fails: str, fresh_lodge: Lodge, ninox_dialect: str
) -> None:
    token = api_token_create(name="website")[1]
    response = Client().post(
        "/api/v1/applications",
        data=json.dumps(valid_body(fresh_lodge.number)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.json()["status"] == "needs_review"
    application = Application.objects.get()
    assert application.review_reason.startswith("The Ninox mirror could not be refreshed")
    assert storing_fails in application.review_reason


def test_the_apply_form_still_receives_the_application_for_review(
    storing_fails: str, fresh_lodge: Lodge
) -> None:
    response = Client().post("/apply/", valid_body(fresh_lodge.number), follow=True)
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.status == Status.NEEDS_REVIEW
    assert storing_fails in application.review_reason


def test_an_unknown_lodge_is_still_received_for_review_when_storing_fails(
    mirrored: Any, monkeypatch: Any
) -> None:
    def sync(**kwargs: Any) -> None:
        raise TypeError("unexpected")

    monkeypatch.setattr(mirror_service, "sync_mirror", sync)
    application = application_submit(cleaned=as_cleaned(valid_body(99997)), source="web")
    assert application.status == Status.NEEDS_REVIEW
    assert application.review_reason.startswith("The lodge number could not be checked")


@pytest.fixture
def synced_tables(mirrored: Any, monkeypatch: Any) -> list[tuple[tuple[str, ...], Any]]:
    calls: list[tuple[tuple[str, ...], Any]] = []

    def sync_mirror(
        *, full: bool = False, progress: Any = None, tables: Any = None, where: Any = None
    ) -> None:
        calls.append((tuple(tables), where))

    monkeypatch.setattr(mirror_service, "sync_mirror", sync_mirror)
    return calls


def test_a_decision_for_a_known_lodge_reads_only_that_lodges_grants(
    synced_tables: list[tuple[tuple[str, ...], Any]], fresh_lodge: Lodge
) -> None:
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert synced_tables == [(("grants",), {"grants": {"lodge": fresh_lodge.ninox_id}})]


def test_a_decision_for_a_lodge_not_in_the_mirror_reads_lodges_too(
    synced_tables: list[tuple[tuple[str, ...], Any]],
) -> None:
    assert mirror_refresh(lodge_number=99996).fresh
    assert synced_tables == [(("lodges",), {"lodges": {"number": 99996}}), (("grants",), None)]


@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs", "workspace"])
def test_a_lodge_new_in_ninox_can_apply_at_once(mirrored: Any, ninox_dialect: str) -> None:
    mirrored.emulator.insert(
        mirrored.team_id,
        mirrored.database_id,
        "Lodges",
        [{"Number": 99995, "Name": "New Lodge No. 99995", "Active": True}],
    )
    application = application_submit(cleaned=as_cleaned(valid_body(99995)), source="web")
    assert application.lodge is not None
    assert application.lodge.number == 99995
    assert application.status == Status.APPROVED


def test_a_decision_that_cannot_join_the_shared_refresh_in_time_goes_to_review_as_unreachable(
    synced_tables: list[tuple[tuple[str, ...], Any]], fresh_lodge: Lodge, monkeypatch: Any
) -> None:
    flight = mirror_service.refresh_flight(("grants",))
    monkeypatch.setattr(
        mirror_service,
        "refresh_flight",
        lambda tables, *scope: RefreshFlight(flight.store, timeout=0.05),
    )
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:  # another decision's refresh, running for longer than we may wait
        with flight.store.run_lock(timeout=30):
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert taken.wait(30)
        freshness = mirror_refresh(lodge_number=fresh_lodge.number)
    finally:
        release.set()
        holder.join(30)
    assert freshness == Freshness(False, NINOX_UNREACHABLE)
    assert synced_tables == []


def test_a_decision_refreshes_alone_when_the_shared_state_cannot_be_read(
    synced_tables: list[tuple[tuple[str, ...], Any]],
    fresh_lodge: Lodge,
    monkeypatch: Any,
    caplog: Any,
) -> None:
    def unreadable(self: FileFlightStore) -> None:
        raise PermissionError("locks folder not ours")

    monkeypatch.setattr(FileFlightStore, "read", unreadable)
    with caplog.at_level(logging.ERROR, logger="grants"):
        assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert synced_tables == [(("grants",), {"grants": {"lodge": fresh_lodge.ninox_id}})]
    assert "refreshing alone" in caplog.text


def test_without_coalescing_every_decision_refreshes_itself(
    synced_tables: list[tuple[tuple[str, ...], Any]],
    fresh_lodge: Lodge,
    settings: Any,
    monkeypatch: Any,
) -> None:
    settings.NINOX_COALESCE_REFRESH = False

    def no_flight(tables: Any, *scope: str) -> None:
        raise AssertionError("the shared refresh was used")

    monkeypatch.setattr(mirror_service, "refresh_flight", no_flight)
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert synced_tables == [(("grants",), {"grants": {"lodge": fresh_lodge.ninox_id}})]


def test_a_refresh_that_started_after_the_request_arrived_serves_it(
    synced_tables: list[tuple[tuple[str, ...], Any]], fresh_lodge: Lodge
) -> None:
    arrived = mirror_service.arrival()  # the request arrives; its form is still being read
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh  # another lodge's decision
    assert mirror_refresh(lodge_number=fresh_lodge.number, arrived=arrived).fresh
    assert len(synced_tables) == 1, "the refresh that started after the arrival was not shared"
    # A request arriving now needs a refresh of its own.
    assert mirror_refresh(lodge_number=fresh_lodge.number, arrived=mirror_service.arrival()).fresh
    assert len(synced_tables) == 2


@pytest.mark.parametrize("path", ["/apply/", "/api/v1/applications"])
def test_the_apply_form_and_the_api_take_the_arrival_before_reading_the_application(
    mirrored: Any, fresh_lodge: Lodge, monkeypatch: Any, path: str
) -> None:
    seen: list[str] = []
    real_arrival, real_refresh = mirror_service.arrival, mirror_service.mirror_refresh

    def arrival() -> Any:
        seen.append("arrival")
        return real_arrival()

    def refresh(**kwargs: Any) -> Freshness:
        seen.append("refresh with the arrival" if kwargs["arrived"] else "refresh without")
        return real_refresh(**kwargs)

    monkeypatch.setattr(f"grants.views.{'api' if 'api' in path else 'apply'}.arrival", arrival)
    monkeypatch.setattr("grants.services.submit.mirror_refresh", refresh)
    if path == "/apply/":
        response = Client().post(path, valid_body(fresh_lodge.number))
    else:
        response = Client().post(
            path,
            data=json.dumps(valid_body(fresh_lodge.number)),
            content_type="application/json",
            headers={"Authorization": f"Bearer {api_token_create(name='website')[1]}"},
        )
    assert response.status_code in (201, 302)
    assert seen == ["arrival", "refresh with the arrival"]


@pytest.fixture
def redis_url(tmp_path: Any) -> Iterator[str]:
    from tests.redis_service import redis_server

    with redis_server(tmp_path) as url:
        yield url


@pytest.mark.services
def test_the_shared_refresh_lives_in_redis_when_the_portal_has_one(
    mirrored: Any, fresh_lodge: Lodge, settings: Any, redis_url: str
) -> None:
    import redis

    settings.REDIS_URL = redis_url
    before = mirrored.emulator.calls
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert mirrored.emulator.calls - before == 2  # one after the other: each its own refresh
    connection = redis.Redis.from_url(redis_url)
    [state] = connection.keys("refresh-flight:*:state")
    assert connection.hget(state, "finished") == b"2"
    connection.close()


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_a_decision_reads_the_lodges_grants_in_one_call(
    mirrored: Any, fresh_lodge: Lodge, ninox_dialect: str
) -> None:
    add_grant_in_ninox(mirrored, fresh_lodge)
    grants_before = fresh_lodge.ninox_grants.count()
    before = mirrored.emulator.calls
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert mirrored.emulator.calls - before == 1
    assert fresh_lodge.ninox_grants.count() == grants_before + 1  # read by the lodge's filter


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_a_grant_deleted_in_ninox_waits_for_the_full_read(
    mirrored: Any, fresh_lodge: Lodge, ninox_dialect: str
) -> None:
    """The lodge's filtered read lacks a grant the mirror holds: deleted, or a filter the
    server reads otherwise (it cannot tell). It removes nothing and the decision goes to a
    person; the next full read, which sees every record, removes it."""
    add_grant_in_ninox(mirrored, fresh_lodge)
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    added = fresh_lodge.ninox_grants.get(fiscal_year=current_fiscal_year().key)
    mirrored_before = set(NinoxGrant.objects.values_list("ninox_id", flat=True))
    with mirrored.client() as http:
        path = f"/api/v1/workspace/{mirrored.team_id}/modules/{mirrored.database_id}"
        http.request("DELETE", f"{path}/tables/Grants/records", json={"records": [added.ninox_id]})
    before = mirrored.emulator.calls
    refresh = mirror_refresh(lodge_number=fresh_lodge.number)
    assert refresh == Freshness(False, NINOX_UNCONFIRMED)  # decided by a person
    assert mirrored.emulator.calls - before == 1  # the lodge's filtered read, no full read
    assert set(NinoxGrant.objects.values_list("ninox_id", flat=True)) == mirrored_before
    sync_mirror(full=True)
    assert not fresh_lodge.ninox_grants.filter(ninox_id=added.ninox_id).exists()
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_an_ignored_filter_sends_the_decision_to_a_person(
    mirrored: Any, fresh_lodge: Lodge, ninox_dialect: str
) -> None:
    mirrored.emulator.faults.configure("filter_ignored")
    application = application_submit(
        cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="web"
    )
    assert application.status == Status.NEEDS_REVIEW
    assert "could not be confirmed" in application.review_reason
