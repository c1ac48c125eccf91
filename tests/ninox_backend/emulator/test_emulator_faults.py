"""Fault injection: each mode, its counters, and repeatability from a seed."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from ninox_backend.emulator import Emulator
from ninox_backend.emulator.faults import parse_spec


def statuses(api: httpx.Client, calls: int) -> list[int]:
    return [api.get("/tables").status_code for _ in range(calls)]


def test_a_spec_string_is_parsed_into_settings() -> None:
    spec = "503=0.2,502=0.1,latency=50ms,429every=5,retry_after=1,commit_then_fail=0.3,"
    spec += "parallel_limit=1,quota=10000,seed=7"
    assert parse_spec(spec) == {
        "503": 0.2,
        "502": 0.1,
        "latency": 0.05,
        "429every": 5,
        "retry_after": 1.0,
        "commit_then_fail": 0.3,
        "parallel_limit": 1,
        "quota": 10000,
        "seed": 7,
    }


@pytest.mark.parametrize("spec", ["503=2", "bogus=1", "latency", "429every=x"])
def test_a_bad_spec_names_the_item(spec: str) -> None:
    with pytest.raises(ValueError, match="fault"):
        parse_spec(spec)


def test_503s_come_at_the_configured_rate(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("503=1")
    response = api.get("/tables")
    assert response.status_code == 503
    assert "message" in response.json()
    assert emu.faults.injected["503"] == 1


def test_a_fault_rate_is_repeatable_from_its_seed(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("503=0.3,502=0.2,seed=11")
    first = statuses(api, 40)
    emu.faults.configure("503=0.3,502=0.2,seed=11")
    second = statuses(api, 40)
    assert first == second
    assert {200, 502, 503} == set(first)


def test_faults_can_be_configured_with_keywords(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure(**{"502": 1})  # type: ignore[arg-type]
    assert api.get("/tables").status_code == 502
    emu.faults.configure(s503=1)
    assert api.get("/tables").status_code == 503


def test_clear_stops_the_faults_and_resets_the_counters(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("503=1")
    api.get("/tables")
    emu.faults.clear()
    assert api.get("/tables").status_code == 200
    assert sum(emu.faults.injected.values()) == 0


def test_latency_is_added_to_every_call(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("latency=40ms")
    start = time.perf_counter()
    api.get("/tables")
    assert time.perf_counter() - start >= 0.04


def test_every_nth_call_is_429_with_retry_after(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("429every=3,retry_after=2")
    responses = [api.get("/tables") for _ in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 429, 200, 200, 429]
    assert responses[2].headers["Retry-After"] == "2"


def test_commit_then_fail_writes_and_answers_500(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("commit_then_fail=1")
    response = api.post("/tables/Lodges/records", json={"fields": {"Number": 1}})
    assert response.status_code == 500
    emu.faults.clear()
    assert len(api.get("/tables/Lodges/records").json()) == 1


def test_commit_then_fail_spares_reads(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("commit_then_fail=1")
    assert api.get("/tables/Lodges/records").status_code == 200


def test_commit_then_drop_writes_and_drops_the_connection(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("commit_then_drop=1")
    with pytest.raises(httpx.TransportError):
        api.post("/tables/Lodges/records", json={"fields": {"Number": 1}})
    emu.faults.clear()
    assert len(api.get("/tables/Lodges/records").json()) == 1


def test_drop_fails_before_anything_is_written(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("drop=1")
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/tables/Lodges/records", json={"fields": {"Number": 1}})
    emu.faults.clear()
    assert api.get("/tables/Lodges/records").json() == []


def test_overlapping_calls_beyond_the_parallel_limit_get_429(
    emu: Emulator, api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.faults.configure("parallel_limit=1")
    # The first call stays inside the emulator until the second has been answered: the two
    # overlap for certain, not only when the second thread is scheduled within a latency.
    second_answered = threading.Event()
    before, refuse = emu.faults.before, emu.faults.parallel_response

    def held_before() -> Any:
        second_answered.wait(timeout=30)
        return before()

    def refused() -> Any:
        response = refuse()
        second_answered.set()
        return response

    monkeypatch.setattr(emu.faults, "before", held_before)
    monkeypatch.setattr(emu.faults, "parallel_response", refused)
    results: list[int] = []

    def call() -> None:
        results.append(api.get("/tables").status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    threads[0].start()
    deadline = time.monotonic() + 30
    while emu.faults.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the first call is inside
    threads[1].start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 429]
    assert emu.faults.injected["parallel_limit"] == 1
    assert api.get("/tables").status_code == 200


def test_the_monthly_quota_refuses_calls_beyond_it(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("quota=3")
    assert statuses(api, 4) == [200, 200, 200, 429]
    assert "quota" in api.get("/tables").json()["message"]
    assert emu.faults.quota_used == 3


def test_the_quota_status_can_be_403(emu: Emulator, api: httpx.Client) -> None:
    emu.faults.configure("quota=1,quota_status=403")
    assert statuses(api, 2) == [200, 403]


def test_faults_strike_before_auth(emu: Emulator) -> None:
    emu.faults.configure("503=1")
    with httpx.Client(transport=emu.transport(), base_url="http://e/v1") as client:
        assert client.get("/teams").status_code == 503


def test_the_call_counter_counts_and_resets(emu: Emulator, api: httpx.Client) -> None:
    emu.calls = 0
    statuses(api, 3)
    assert emu.calls == 3
    emu.calls = 0
    assert emu.calls == 0


def test_faults_can_be_given_to_the_constructor() -> None:
    emu = Emulator(token="k", faults="502=1", dialect="legacy")
    with httpx.Client(transport=emu.transport(), base_url="http://e/v1") as client:
        assert client.get("/teams").status_code == 502


def test_assigning_a_spec_string_configures_the_faults(emu: Emulator, api: httpx.Client) -> None:
    emu.faults = "503=1"  # type: ignore[assignment]
    assert api.get("/tables").status_code == 503
    emu.faults = None  # type: ignore[assignment]
    assert api.get("/tables").status_code == 200
