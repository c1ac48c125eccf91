"""The doctor and the workspace API: each API found by its own list endpoint, NINOX_API proposed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from ninox_backend import NinoxClient
from ninox_backend.doctor import Doctor, DoctorReport
from ninox_backend.mapping import SchemaMapping
from ninox_backend.profile import CapabilityProfile, Finding
from ninox_backend.request import RetryPolicy
from ninox_backend.testing import EmulatedNinox, demo_ninox
from ninox_backend.workspace import WorkspaceClient


@pytest.fixture
def workspace() -> Iterator[EmulatedNinox]:
    with demo_ninox(seed=42, dialect="workspace") as ninox:
        yield ninox


def diagnose(
    client: NinoxClient, ninox: EmulatedNinox, write_test: str | None = None
) -> DoctorReport:
    doctor = Doctor(
        client.database(ninox.team_id, ninox.database_id), SchemaMapping(settings.NINOX_SCHEMA)
    )
    try:
        return doctor.run(write_test)
    finally:
        client.close()


def finding(report: DoctorReport, check: str) -> Finding:
    matches = [f for f in report.findings if f.check == check]
    assert matches, f"no finding {check!r} in {[f.check for f in report.findings]}"
    return matches[-1]


def workspace_client(ninox: EmulatedNinox, base_url: str | None = None) -> WorkspaceClient:
    return WorkspaceClient(
        token=ninox.token,
        base_url=base_url or ninox.base_url,
        transport=ninox.transport,
        retry=RetryPolicy(max_retries=0),
    )


def test_on_the_workspace_api_it_confirms_the_module_the_fields_and_a_verified_filter(
    workspace: EmulatedNinox,
) -> None:
    calls_before = workspace.emulator.calls
    report = diagnose(workspace_client(workspace), workspace)
    assert report.profile.api == "workspace"
    assert report.profile.query is False
    assert finding(report, "api").ok
    assert "module 'grants'" in finding(report, "api").detail
    assert finding(report, "schema").ok
    assert finding(report, "filter").ok
    assert "0 for a value nothing has" in finding(report, "filter").detail
    assert finding(report, "filter on a reference").ok
    assert report.profile.reference_filter is True
    assert workspace.emulator.calls - calls_before == report.calls


def test_a_lodge_filter_that_answers_nothing_is_reported_and_refuses_decisions_reads(
    workspace: EmulatedNinox,
) -> None:
    workspace.emulator.faults.configure("filter_ref_unmatched")
    report = diagnose(workspace_client(workspace), workspace)
    assert finding(report, "filter").ok  # the reference (text) filter is honoured
    by_lodge = finding(report, "filter on a reference")
    assert not by_lodge.ok
    assert by_lodge.detail.startswith('filter={"Lodge": ')
    assert "answered 0 record(s) without record" in by_lodge.detail
    assert "every decision goes to a person" in by_lodge.action
    assert report.profile.reference_filter is False
    assert CapabilityProfile.from_json(report.profile.to_json()).reference_filter is False


def test_a_filter_the_server_ignores_is_reported_and_sends_decisions_to_a_person(
    workspace: EmulatedNinox,
) -> None:
    workspace.emulator.faults.configure("filter_ignored")
    report = diagnose(workspace_client(workspace), workspace)
    filtered = finding(report, "filter")
    assert not filtered.ok
    assert "decisions go to a person" in filtered.action


def test_a_workspace_api_whose_mapped_field_is_missing_names_it(
    workspace: EmulatedNinox, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec: dict[str, Any] = {**settings.NINOX_SCHEMA}
    fields: dict[str, Any] = dict(spec["grants"]["fields"])
    spec["grants"] = {"table": "Grants", "fields": {**fields, "reference": ("Ref No", "text")}}
    doctor = Doctor(
        workspace_client(workspace).database(workspace.team_id, workspace.database_id),
        SchemaMapping(spec),
    )
    report = doctor.run()
    schema = finding(report, "schema")
    assert not schema.ok
    assert "Grants.Ref No: field missing" in schema.detail


def test_the_write_test_creates_finds_updates_and_deletes_a_scratch_record(
    workspace: EmulatedNinox,
) -> None:
    before = workspace.emulator.store.seq(workspace.emulator.store.database("demo", "grants"))
    report = diagnose(workspace_client(workspace), workspace, write_test="Grants")
    assert report.write_test_refused is None
    written = finding(report, "write test")
    assert written.ok, written.detail
    assert "created record 1501" in written.detail
    assert "deleted; the filter finds nothing" in written.detail
    with workspace.client() as http:
        path = "/api/v1/workspace/demo/modules/grants/tables/Grants/records"
        body = http.get(path, params={"limit": 1, "offset": 1499}).json()
    assert [r["id"] for r in body["data"]] == ["1500"]  # the scratch record is gone
    assert body["page_info"]["has_more"] is False
    after = workspace.emulator.store.seq(workspace.emulator.store.database("demo", "grants"))
    assert after == before + 3  # create, update, delete: nothing else changed


def test_the_write_test_on_a_server_that_ignores_the_filter_fails_and_cleans_up(
    workspace: EmulatedNinox,
) -> None:
    workspace.emulator.faults.configure("filter_ignored")
    report = diagnose(workspace_client(workspace), workspace, write_test="Grants")
    assert not finding(report, "write test").ok
    workspace.emulator.faults.configure(None)
    with workspace.client() as http:
        path = "/api/v1/workspace/demo/modules/grants/tables/Grants/records"
        body = http.get(path, params={"limit": 100, "offset": 1400}).json()
    assert len(body["data"]) == 100  # 1,500 again: the scratch record was deleted


def test_configured_for_classic_on_a_workspace_host_it_proposes_ninox_api_workspace(
    workspace: EmulatedNinox,
) -> None:
    classic = NinoxClient(
        token=workspace.token,
        base_url="http://ninox.test/v1",
        transport=workspace.transport,
        retry=RetryPolicy(max_retries=0),
    )
    report = diagnose(classic, workspace)
    api = finding(report, "api")
    assert not api.ok
    assert report.profile.api == "workspace"
    assert "NINOX_API=workspace" in api.action
    assert "NINOX_BASE_URL=http://ninox.test" in api.action
    assert "grants" in api.action


def test_configured_for_classic_it_tries_the_workspace_api_with_the_configured_workspace_id(
    workspace: EmulatedNinox,
) -> None:
    """A classic team id is not a workspace id: NINOX_WORKSPACE_ID, when set, is tried."""
    classic = NinoxClient(
        token=workspace.token,
        base_url="http://ninox.test/v1",
        transport=workspace.transport,
        retry=RetryPolicy(max_retries=0),
    )
    doctor = Doctor(
        classic.database("a-classic-team", workspace.database_id),
        SchemaMapping(settings.NINOX_SCHEMA),
        workspace_id=workspace.team_id,
    )
    report = doctor.run()
    api = finding(report, "api")
    assert report.profile.api == "workspace"
    assert f"NINOX_WORKSPACE_ID={workspace.team_id} " in api.action


def test_configured_for_workspace_on_a_classic_host_it_proposes_ninox_api_classic() -> None:
    with demo_ninox(seed=42, dialect="docs") as classic:
        report = diagnose(workspace_client(classic, "http://ninox.test"), classic)
    api = finding(report, "api")
    assert not api.ok
    assert report.profile.api == "classic"
    assert "NINOX_API=classic" in api.action
    assert "NINOX_BASE_URL=http://ninox.test/v1" in api.action


def test_with_neither_api_answering_nothing_is_proposed(workspace: EmulatedNinox) -> None:
    report = diagnose(workspace_client(workspace, "http://ninox.test/elsewhere"), workspace)
    assert report.profile.api == "unknown"
    api = finding(report, "api")
    assert not api.ok
    assert "NINOX_API=" not in api.action
