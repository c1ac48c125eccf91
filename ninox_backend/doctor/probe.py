"""One run's context: the database and mapping under test, what the checks have seen so far,
the findings, and the raw calls every check makes through ``client.request``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..mapping import MappedTable, SchemaMapping
from ..profile import DOCUMENTED_PAGE_SIZE, CapabilityProfile, Finding
from ..schema import Schema, TableSchema
from .raw import HttpFactory
from .replies import Unreadable, as_int, shape_of

if TYPE_CHECKING:
    from ..database import Database

TABLE_PATH = "/tables/{table}"
RECORDS_PATH = TABLE_PATH + "/records"
RECORD_PATH = RECORDS_PATH + "/{record}"


@dataclass
class Sample:
    """The first page of one mapped table, as Ninox sent it."""

    table: TableSchema
    mapped: MappedTable
    rows: list[Mapping[str, Any]]
    #: the table has more records than this page holds (None: not asked)
    more: bool | None = None


@dataclass
class LookupTarget:
    table: TableSchema
    field_id: str
    field_name: str
    value: Any
    record_id: int


@dataclass
class State:
    schema: Schema | None = None
    raw_schema: Any = None
    samples: list[Sample] = field(default_factory=list)
    #: (table id, record id) → sequence, for every record seen
    seen: dict[tuple[str, int], int] = field(default_factory=dict)
    #: records?sinceSq=S and its S, for the change-feed comparison
    recent: set[tuple[str, int]] | None = None
    recent_since: int | None = None
    feed_understood: bool = False
    target: LookupTarget | None = None
    honoured: list[str] = field(default_factory=list)
    #: "unknown" until GET /teams has answered like the classic API
    api: str = "unknown"
    per_page: int = DOCUMENTED_PAGE_SIZE
    query: bool = True
    parallel_refused: bool | None = None
    #: workspace API: an equality filter on a reference returned the record (None: not checked)
    reference_filter: bool | None = None
    change_feed: bool = False
    lookup_form: str | None = None
    raw_calls: int = 0


@dataclass
class Probe:
    """What every check reads and adds to during one :meth:`Doctor.run`."""

    database: Database
    mapping: SchemaMapping
    http_factory: HttpFactory
    #: the application's (table, field) the write-back looks up by
    lookup: tuple[str, str]
    now: Callable[[], dt.datetime]
    clock: Callable[[], float]
    latency_samples: int
    previous: CapabilityProfile | None
    write_test_planned: bool
    on_finding: Callable[[Finding], None] | None
    #: the workspace id to try when the classic API does not answer (None: the team id)
    workspace_id: str | None = None
    state: State = field(default_factory=State)
    findings: list[Finding] = field(default_factory=list)

    def add(self, check: str, ok: bool, detail: str, action: str = "") -> Finding:
        # A server may echo the key (in an error body, say): it never reaches a finding.
        redact = self.database.client._requester.redact
        finding = Finding(check=check, ok=ok, detail=redact(detail), action=redact(action))
        self.findings.append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)
        return finding

    # ---- raw calls ----------------------------------------------------------------------

    def get(self, template: str, table: str | None = None, **kwargs: Any) -> Any:
        path_params = dict(kwargs.pop("path_params", {}))
        if table is not None:
            path_params["table"] = table
        return self.database.request("GET", template, path_params=path_params, **kwargs)

    def records(self, table: str, **params: Any) -> list[Mapping[str, Any]]:
        data = self.get(RECORDS_PATH, table, params=params)
        if not isinstance(data, list):
            raise Unreadable(f"records answered {shape_of(data)}, not a list")
        return [row for row in data if isinstance(row, Mapping)]

    def db_path(self, suffix: str = "") -> str:
        team = quote(self.database.team_id, safe="")
        db = quote(self.database.id, safe="")
        return f"/teams/{team}/databases/{db}{suffix}"

    # ---- what was seen ----------------------------------------------------------------------

    def mapped_tables(self) -> Iterable[tuple[MappedTable, TableSchema]]:
        schema = self.state.schema
        assert schema is not None
        for mapped in self.mapping.tables.values():
            live = schema.find_table(mapped.name)
            if live is not None:
                yield mapped, live

    def remember(self, table_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            rid, seq = as_int(row.get("id")), as_int(row.get("sequence"))
            if rid is not None and seq is not None:
                self.state.seen[(table_id, rid)] = seq
