"""The doctor on the workspace API: which API answers, the module's tables, a verified filter.

Each API is detected by its own list endpoint: the classic API's ``GET /teams`` (a list
holding the team) and the workspace API's ``GET /api/v1/workspace/{workspaceId}/modules``
(``{"data": [{"name"}]}`` holding the module). Whichever is configured is tried first;
when it does not answer, the other is tried on the same host, and the finding names the
``NINOX_API`` (and the variables) to set. Nothing is guessed: an API is proposed only
when its list endpoint answered in its own shape.

On the workspace API the classic checks (``sinceSq``, the change feed, lookup forms, NX)
do not apply. What is checked: the module's tables and the mapped fields (``GET …/tables``),
and that an equality ``filter`` on the write-back's key returns the record that has it and
nothing for a value no record has (every returned record compared with the asked value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from ..exceptions import NinoxError, NinoxLookupUnreliable
from ..types import FieldType
from ..workspace import WorkspaceDatabase
from .probe import Probe
from .replies import clip, error_text, shape_of

WORKSPACE_LIST = "/api/v1/workspace/{workspace}/modules"
CLASSIC_LIST = "/v1/teams"


def host_of(base_url: str) -> str:
    """``https://host[:port]`` of a base URL (the workspace API's paths begin at the host)."""
    parts = urlsplit(base_url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def probe_workspace_list(probe: Probe, workspace_id: str) -> list[str] | None:
    """The modules' names when ``GET …/workspace/{id}/modules`` answers like the workspace
    API on this host; None otherwise (a raw call outside the limiter)."""
    url = host_of(probe.database.client.base_url) + WORKSPACE_LIST.replace(
        "{workspace}", quote(workspace_id, safe="")
    )
    return _names(_raw_get(probe, url), "name")


def probe_classic_list(probe: Probe) -> list[str] | None:
    """The teams' ids when ``GET /v1/teams`` answers the classic API's list on this host."""
    data = _raw_get(probe, host_of(probe.database.client.base_url) + CLASSIC_LIST)
    if not isinstance(data, list):
        return None
    return [str(t.get("id")) for t in data if isinstance(t, Mapping) and "id" in t]


def _raw_get(probe: Probe, url: str) -> Any:
    probe.state.raw_calls += 1
    try:
        with probe.http_factory() as http:
            reply = http.get(url)
    except httpx.HTTPError:
        return None
    if reply.status_code != 200:
        return None
    try:
        return reply.json()
    except ValueError:
        return None


def _names(data: Any, key: str) -> list[str] | None:
    items = data.get("data") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return None
    return [str(m.get(key)) for m in items if isinstance(m, Mapping) and key in m]


def suggest_workspace(probe: Probe) -> str | None:
    """When the classic API did not answer: the settings for the workspace API, if it does."""
    workspace = probe.workspace_id or probe.database.team_id
    modules = probe_workspace_list(probe, workspace)
    if modules is None:
        return None
    probe.state.api = "workspace"
    host = host_of(probe.database.client.base_url)
    return (
        f"Ninox's workspace API answers at {host} (GET …/workspace/{workspace}"
        f"/modules lists {', '.join(modules) or 'no module'}): set NINOX_API=workspace, "
        f"NINOX_BASE_URL={host}, NINOX_WORKSPACE_ID={workspace} and NINOX_MODULE "
        "to the module holding the grants"
    )


def check_workspace_api(probe: Probe) -> bool:
    """``NINOX_API=workspace``: the module is in the workspace's list of modules."""
    db = probe.database
    state = probe.state
    try:
        modules = db.client.modules(db.team_id)  # type: ignore[attr-defined]
    except NinoxError as exc:
        teams = probe_classic_list(probe)
        action = "check NINOX_API_KEY (a workspace API key), NINOX_BASE_URL and NINOX_WORKSPACE_ID"
        if teams is not None:
            state.api = "classic"
            host = host_of(db.client.base_url)
            action = (
                f"Ninox's classic API answers at {host}/v1 (GET /teams lists "
                f"{len(teams)} team(s)): set NINOX_API=classic, NINOX_BASE_URL={host}/v1, "
                "NINOX_TEAM_ID and NINOX_DATABASE_ID"
            )
        probe.add(
            "api",
            False,
            f"GET …/workspace/{db.team_id}/modules answered {error_text(exc)}",
            action,
        )
        return False
    if db.id not in modules:
        probe.add(
            "api",
            False,
            f"workspace API, but module {db.id!r} is not among {', '.join(modules) or 'none'}",
            "set NINOX_MODULE to one of: " + ", ".join(modules) if modules else "",
        )
        return False
    state.api = "workspace"
    state.query = False
    state.per_page = 100
    probe.add(
        "api",
        True,
        f"workspace API: GET …/workspace/{db.team_id}/modules lists module {db.id!r}",
        "the portal speaks this API (NINOX_API=workspace)",
    )
    return True


def check_workspace(probe: Probe) -> None:
    """The mapped tables and fields, then a verified equality filter on the write-back's key."""
    db = probe.database
    assert isinstance(db, WorkspaceDatabase)
    schema = db.schema(refresh=True)
    probe.state.schema = schema
    problems = probe.mapping.check(schema)
    if problems:
        probe.add(
            "schema",
            False,
            "; ".join(str(p) for p in problems[:5]),
            "fix NINOX_SCHEMA_JSON (names as the module names them) or the module",
        )
        return
    probe.add("schema", True, f"every mapped table and field is in module {db.id!r}")
    table_key, field_key = probe.lookup
    mapped = probe.mapping[table_key]
    name = mapped.field(field_key)
    table = db.table(mapped.name)
    sample = next(
        (r for page in table.iter_pages(20) for r in page if r.get(name) not in (None, "")),
        None,
    )
    if sample is None:
        probe.add(
            "filter",
            False,
            f"no {mapped.name} record has a {name!r} to look up by",
            "the write-back still verifies every record it finds; run again once one exists",
        )
        return
    value = sample.get(name)
    nothing = f"doctor-no-such-{name}-{probe.now():%Y%m%d%H%M%S}"
    try:
        found = table.find({name: value})
        none = table.find({name: nothing})
    except NinoxLookupUnreliable as exc:
        probe.add(
            "filter",
            False,
            f"filter={json.dumps({name: str(value)})} answered a record without that value "
            f"({clip(exc.message, 80)})",
            "decisions go to a person (the budget cannot be read for one lodge) and the "
            "write-back refuses and tells finance: this account's filter is not honoured",
        )
        return
    ok = any(r.id == sample.id for r in found) and not none
    probe.add(
        "filter",
        ok,
        f"filter on {name!r} found record {sample.id} ({len(found)} match(es)) and "
        f"{len(none)} for a value nothing has"
        if ok
        else f"filter on {name!r} answered {shape_of(found)} / {shape_of(none)}",
        "the write-back looks up by this field and verifies every record it gets"
        if ok
        else "the write-back refuses when it cannot confirm the row; please report this",
    )
    if ok:
        check_reference_filter(probe, table, sample)


def check_reference_filter(probe: Probe, table: Any, sample: Any) -> None:
    """An equality filter on each reference of the sample (a grant's lodge) returns it.

    The decision's refresh reads a lodge's grants with ``filter={"Lodge": id}``, and the
    description is silent on filters over references: a server that reads the id as
    something else answers nothing, which no check of the returned records can see. One
    call per reference field; the result is the profile's ``reference_filter`` (False:
    every decision's read is refused and goes to a person).
    """
    refs = [f for f in table.fields() if f.type == FieldType.REFERENCE]
    values = {f.name: sample.get(f.name) for f in refs if sample.get(f.name) is not None}
    if not values:
        return
    for name, value in values.items():
        try:
            ids = [r.id for r in table.find({name: value})]
        except NinoxLookupUnreliable as exc:
            ids, why = [], f"answered a record of another {name} ({clip(exc.message, 60)})"
        else:
            why = f"answered {len(ids)} record(s) without record {sample.id}"
        ok = sample.id in ids
        probe.state.reference_filter = ok if probe.state.reference_filter is not False else False
        filter_text = json.dumps({name: value})
        probe.add(
            "filter on a reference",
            ok,
            f"filter={filter_text} found record {sample.id} among {len(ids)}"
            if ok
            else f"filter={filter_text} {why}",
            "a decision reads its lodge's grants in one call, each checked against the lodge"
            if ok
            else "a decision cannot read a lodge's grants here: every decision goes to a "
            "person (the budget is never read from a filter that misses records)",
        )


def run_workspace_write_test(probe: Probe, table_name: str) -> str | None:
    """Create a scratch record, find it by a filter, update it (PATCH), delete it.

    Settles on this account what the write-back relies on: a create answers the new id,
    a filter on our key finds exactly that record, a PATCH changes it and a delete
    removes it. Returns why it did not run (None when it ran).
    """
    db = probe.database
    assert isinstance(db, WorkspaceDatabase)
    table = db.table(table_name)
    table_key, field_key = probe.lookup
    mapped = probe.mapping[table_key]
    if table.name == mapped.name:
        key = mapped.field(field_key)
    else:
        key = next((f.name for f in table.fields() if f.type == "text"), "")
    if not key:
        return f"table {table.name!r} has no text field to mark the scratch record with"
    scratch = f"ninox-doctor scratch {probe.now():%Y%m%dT%H%M%S}"
    created = table.create({key: scratch})
    steps: list[str] = [f"created record {created.id}"]
    ok = True
    try:
        found = [r.id for r in table.find({key: scratch})]
        ok = found == [created.id]
        steps.append(f"the filter on {key!r} found {found or 'nothing'}")
        table.update(created.id, {key: scratch + " updated"})
        found = [r.id for r in table.find({key: scratch + " updated"})]
        ok = ok and found == [created.id]
        steps.append(f"after a PATCH it found {found or 'nothing'}")
    finally:
        table.delete(created.id)
    gone = table.find({key: scratch + " updated"})
    ok = ok and not gone
    steps.append("deleted; the filter finds nothing" if not gone else "deleted, yet still found")
    probe.add(
        "write test",
        ok,
        f"in {table.name}: " + "; ".join(steps),
        "the write-back creates, finds and updates as it expects here"
        if ok
        else "the write-back refuses what it cannot confirm; please report this",
    )
    return None
