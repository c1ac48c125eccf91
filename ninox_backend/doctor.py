"""The doctor: settle, against one real Ninox account, each thing the documents leave open.

Ninox's documents do not say what ``/changes`` answers, what a lookup does with a
key it does not know, how large a page may be, or whether a date arrives as text
or as a number. :class:`Doctor` asks the account itself, one check at a time, and
turns what it saw into :class:`~ninox_backend.profile.Finding` lines and a
:class:`~ninox_backend.profile.CapabilityProfile` that the client then uses.

It is read-only unless asked for a write test. Its probes are raw calls through
``client.request`` (and, for the error body and the parallel-call check, plain
``httpx`` clients from ``http_factory``), so they do not depend on the client's
own lookup, paging or change-feed code: the doctor judges that code's assumptions,
it must not share them. It stores only what it saw; anything it could not settle
stays at the conservative default.

``--write-test TABLE`` creates one scratch record, looks it up, updates it and
deletes it, reading the change feed after each step: the feed is switched on only
when creates, updates *and* deletes each appear in it in a shape the portal fully
understands. A table with ``afterCreate``/``afterUpdate`` triggers is refused
unless ``force`` (a trigger could write elsewhere).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from . import nx
from .exceptions import NinoxAuthError, NinoxError, NinoxNotFound
from .mapping import MappedTable, SchemaMapping
from .profile import DOCUMENTED_PAGE_SIZE, LOOKUP_FORMS, CapabilityProfile, Finding
from .schema import Schema, TableSchema
from .types import FieldType, loads

if TYPE_CHECKING:
    from .client import NinoxClient
    from .database import Database

__all__ = [
    "Doctor",
    "DoctorReport",
    "format_finding",
    "format_profile",
    "raw_http_factory",
    "safe_base_url",
]

#: the page size the doctor asks for to find the cap
PROBE_PAGE_SIZE = 500
#: a record id no table has (within a signed 32-bit integer, so no server chokes on it)
MISSING_RECORD_ID = 2_000_000_000
#: p95 above this is worth a cross mark: every decision waits for one call
SLOW_P95_SECONDS = 2.0

_TABLE = "/tables/{table}"
_RECORDS = _TABLE + "/records"
_RECORD = _RECORDS + "/{record}"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)
_TEXT_TYPES = {
    FieldType.TEXT,
    FieldType.EMAIL,
    FieldType.PHONE,
    FieldType.URL,
    FieldType.HTML,
    FieldType.CHOICE,
}
_FEED_OPS = {
    "create": "create",
    "created": "create",
    "insert": "create",
    "new": "create",
    "update": "update",
    "updated": "update",
    "modify": "update",
    "modified": "update",
    "delete": "delete",
    "deleted": "delete",
    "remove": "delete",
    "removed": "delete",
}
#: epoch milliseconds of 2000-01-01 and 2100-01-01: a numeric date between them is readable
_EPOCH_MS_2000 = 946_684_800_000
_EPOCH_MS_2100 = 4_102_444_800_000

HttpFactory = Callable[[], httpx.Client]
_T = TypeVar("_T")
logger = logging.getLogger("ninox_backend")


class _Unclosed(httpx.BaseTransport):
    """A shared transport that the raw clients use but must not close."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    def close(self) -> None:
        pass


def raw_http_factory(client: NinoxClient) -> HttpFactory:
    """Plain httpx clients like ``client``'s (base URL, key, timeout, transport), no limiter."""
    http = client._requester._http
    transport = getattr(http, "_transport", None)
    # A default transport is a connection pool of its own: each raw client gets a new one.
    shared = None if isinstance(transport, httpx.HTTPTransport) or transport is None else transport

    def factory() -> httpx.Client:
        return httpx.Client(
            base_url=http.base_url,
            headers=http.headers,
            timeout=http.timeout,
            transport=_Unclosed(shared) if shared is not None else None,
            follow_redirects=False,
        )

    return factory


def safe_base_url(url: str) -> str:
    """The base URL without user info, query or fragment (a key must never be printed)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def format_finding(finding: Finding) -> str:
    """``✓ check: detail → action`` (one line)."""
    mark = "✓" if finding.ok else "✗"
    text = f"{mark} {finding.check}: {finding.detail}"
    return f"{text} → {finding.action}" if finding.action else text


def format_profile(profile: CapabilityProfile) -> list[str]:
    """The profile as the lines a person reads (what the client will do)."""
    refused = {True: "refused", False: "allowed", None: "not checked"}[profile.parallel_refused]
    return [
        f"api: {profile.api}",
        "change feed: "
        + ("on (…/changes?sinceSq=)" if profile.change_feed else "off (records?sinceSq=)"),
        "lookup: "
        + (profile.lookup_form or "none shown to work (NX query, then every id read back)"),
        f"query: {'answers' if profile.query else 'refused'}",
        f"perPage: {profile.per_page}",
        f"two parallel calls: {refused} (the portal keeps one call in flight either way)",
    ]


@dataclass
class DoctorReport:
    """What a run found: the profile (with its findings), the calls it cost, a refusal."""

    profile: CapabilityProfile
    calls: int = 0
    #: why the asked-for write test did not run (None when it ran or was not asked)
    write_test_refused: str | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.profile.findings


@dataclass
class _Sample:
    """The first page of one mapped table, as Ninox sent it."""

    table: TableSchema
    mapped: MappedTable
    rows: list[Mapping[str, Any]]
    #: the table has more records than this page holds (None: not asked)
    more: bool | None = None


@dataclass
class _LookupTarget:
    table: TableSchema
    field_id: str
    field_name: str
    value: Any
    record_id: int


@dataclass
class _State:
    schema: Schema | None = None
    raw_schema: Any = None
    samples: list[_Sample] = field(default_factory=list)
    #: (table id, record id) → sequence, for every record seen
    seen: dict[tuple[str, int], int] = field(default_factory=dict)
    #: records?sinceSq=S and its S, for the change-feed comparison
    recent: set[tuple[str, int]] | None = None
    recent_since: int | None = None
    feed_understood: bool = False
    target: _LookupTarget | None = None
    honoured: list[str] = field(default_factory=list)
    #: "unknown" until GET /teams has answered like the classic API
    api: str = "unknown"
    per_page: int = DOCUMENTED_PAGE_SIZE
    query: bool = True
    parallel_refused: bool | None = None
    change_feed: bool = False
    lookup_form: str | None = None
    raw_calls: int = 0


class Doctor:
    """Runs the checks against ``database`` for the tables and fields in ``mapping``.

    ``http_factory`` returns a plain ``httpx.Client`` with the base URL and the
    key set (the error-body and parallel-call checks need raw replies and two
    clients outside the limiter); by default one like the database's client.
    ``lookup`` names the application's (table, field) the write-back looks up by.
    ``on_finding`` is called with each finding as soon as it is known.
    ``previous`` is the profile stored before: a change feed that an earlier write
    test switched on stays on while today's read-only comparison still holds.
    """

    def __init__(
        self,
        database: Database,
        mapping: SchemaMapping,
        *,
        http_factory: HttpFactory | None = None,
        lookup: tuple[str, str] = ("grants", "reference"),
        on_finding: Callable[[Finding], None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        latency_samples: int = 5,
        previous: CapabilityProfile | None = None,
    ) -> None:
        self.database = database
        self.mapping = mapping
        self.http_factory = http_factory or raw_http_factory(database.client)
        self.lookup = lookup
        self.on_finding = on_finding
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.clock = clock
        self.latency_samples = latency_samples
        self.previous = previous
        self._write_test_planned = False
        self._findings: list[Finding] = []
        self._state = _State()

    # ---- running ----------------------------------------------------------------------

    def run(self, write_test: str | None = None, *, force: bool = False) -> DoctorReport:
        """Every check in order; ``write_test`` names a table for the scratch-record test."""
        self._findings = []
        self._state = state = _State()
        self._write_test_planned = write_test is not None
        refused: str | None = None
        guard = self._guard
        with self.database.client.counting() as counter:
            if guard("api", self._check_api, False):
                if guard("schema", self._check_schema, False):
                    guard("perPage", self._check_pages_and_values, None)
                    guard("sinceSq", self._check_since_sq, None)
                    guard("change feed", self._check_change_feed, None)
                    guard("lookup", self._check_lookups, None)
                    guard("query", self._check_query, None)
                    guard("error body", self._check_error_body, None)
                    guard("latency", self._check_latency, None)
                    guard("parallel calls", self._check_parallel, None)
                    if write_test is not None:
                        refused = guard(
                            "write test",
                            lambda: self._write_test(write_test, force=force),
                            None,
                        )
                elif write_test is not None:
                    refused = "the schema could not be read"
            elif write_test is not None:
                refused = "the classic Ninox API was not confirmed"
        profile = CapabilityProfile(
            api=state.api,
            change_feed=state.change_feed,
            lookup_form=state.lookup_form,
            query=state.query,
            per_page=state.per_page,
            parallel_refused=state.parallel_refused,
            checked_at=self.now(),
            base_url=safe_base_url(self.database.client.base_url),
            findings=tuple(self._findings),
        )
        return DoctorReport(
            profile=profile, calls=counter.calls + state.raw_calls, write_test_refused=refused
        )

    def _guard(self, check: str, step: Callable[[], _T], failed: _T) -> _T:
        """Run one check; a reply that breaks it is reported, never the end of the run."""
        try:
            return step()
        except Exception as exc:  # a first contact must report every surprise, not stop
            logger.warning("ninox_doctor: the %s check stopped", check, exc_info=True)
            text = f"{type(exc).__name__}: {exc}"
            self._add(
                check,
                False,
                f"the check stopped on a reply it could not read ({_clip(text, 120)})",
                "what it would settle stays at the conservative default; please report this",
            )
            return failed

    def _add(self, check: str, ok: bool, detail: str, action: str = "") -> Finding:
        # A server may echo the key (in an error body, say): it never reaches a finding.
        redact = self.database.client._requester.redact
        finding = Finding(check=check, ok=ok, detail=redact(detail), action=redact(action))
        self._findings.append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)
        return finding

    # ---- raw calls ----------------------------------------------------------------------

    def _get(self, template: str, table: str | None = None, **kwargs: Any) -> Any:
        path_params = dict(kwargs.pop("path_params", {}))
        if table is not None:
            path_params["table"] = table
        return self.database.request("GET", template, path_params=path_params, **kwargs)

    def _records(self, table: str, **params: Any) -> list[Mapping[str, Any]]:
        data = self._get(_RECORDS, table, params=params)
        if not isinstance(data, list):
            raise _Unreadable(f"records answered {_shape(data)}, not a list")
        return [row for row in data if isinstance(row, Mapping)]

    def _db_path(self, suffix: str = "") -> str:
        team = quote(self.database.team_id, safe="")
        db = quote(self.database.id, safe="")
        return f"/teams/{team}/databases/{db}{suffix}"

    # ---- which API --------------------------------------------------------------------

    def _check_api(self) -> bool:
        state = self._state
        base = self.database.client.base_url
        workspace_hint = (
            "this portal needs Ninox's classic API (https://api.ninox.com/v1 with a personal"
            " API key) for now"
        )
        if "/workspace" in urlsplit(base).path:
            state.api = "workspace"
            self._add(
                "api",
                False,
                "the base URL is Ninox's newer workspace API (/api/v1/workspace/…)",
                workspace_hint + "; nothing else was checked",
            )
            return False
        try:
            teams = self.database.client.request("GET", "/teams")
        except NinoxAuthError as exc:
            self._add(
                "api",
                False,
                f"GET /teams refused the key ({exc.status} {_short(exc)})",
                "check NINOX_API_KEY (a personal key from Ninox's settings); nothing else checked",
            )
            return False
        except NinoxError as exc:
            self._add(
                "api",
                False,
                f"GET /teams answered {_error_text(exc)}: no classic Ninox API at this base URL",
                "if your account is on Ninox's newer workspace API, " + workspace_hint,
            )
            return False
        if isinstance(teams, Mapping) and ("data" in teams or "page_info" in teams):
            state.api = "workspace"
            self._add(
                "api",
                False,
                "GET /teams answers {data, page_info}: this is Ninox's newer workspace API",
                workspace_hint,
            )
            return False
        if not isinstance(teams, list):
            self._add(
                "api",
                False,
                f"GET /teams answers {_shape(teams)}, not the classic API's list of teams",
                workspace_hint + " (is NINOX_BASE_URL right?)",
            )
            return False
        state.api = "classic"
        ids = {str(t.get("id")): str(t.get("name", "")) for t in teams if isinstance(t, Mapping)}
        team = self.database.team_id
        if team not in ids:
            self._add(
                "api",
                False,
                f"classic v1 (GET /teams answers a list of {len(ids)}), but team {team!r} is not"
                " in it",
                "set NINOX_TEAM_ID to one of: " + ", ".join(sorted(ids)) if ids else "",
            )
            return False
        self._add(
            "api",
            True,
            f"classic v1: GET /teams answers a list; team {team!r} ({ids[team]}) is in it",
            "the portal speaks this API",
        )
        return True

    # ---- schema -----------------------------------------------------------------------

    def _check_schema(self) -> bool:
        state = self._state
        try:
            raw = self.database.request("GET", "")
        except NinoxError as exc:
            self._add(
                "schema",
                False,
                f"GET {self._db_path()} answered {_error_text(exc)}",
                "check NINOX_DATABASE_ID; nothing else checked",
            )
            return False
        source = "the database endpoint"
        if isinstance(raw, Mapping) and isinstance(raw.get("schema"), Mapping):
            shape = "{" + ", ".join(sorted(str(k) for k in raw)) + "} with schema.types"
        else:
            try:
                raw = self.database.request("GET", "/tables")
            except NinoxError as exc:
                self._add(
                    "schema",
                    False,
                    f"neither the database endpoint nor …/tables gave a schema ({_short(exc)})",
                    "nothing else checked",
                )
                return False
            source, shape = "…/tables", "a list of tables"
        schema = Schema.from_json(raw, fetched_at=self.now())
        self.database.use_schema(schema)
        state.schema, state.raw_schema = schema, raw
        version = f", version {schema.version}" if schema.version is not None else ""
        self._add(
            "schema",
            bool(schema.tables),
            f"{source} answers {shape}: {len(schema.tables)} table(s){version}",
            "names map to ids from it" if schema.tables else "the database has no tables",
        )
        problems = self.mapping.check(schema)
        for mapped in self.mapping.tables.values():
            live = schema.find_table(mapped.name)
            if live is None:
                self._add(
                    f"table {mapped.name}",
                    False,
                    "not in the database",
                    "fix NINOX_SCHEMA (manage.py ninox_check)",
                )
                continue
            ids = []
            for mf in mapped.fields.values():
                found = next((f for f in live.fields if f.name == mf.name), None)
                ids.append(f"{mf.name} {found.id if found else '?'}")
            mine = [p for p in problems if p.table == mapped.name]
            detail = ", ".join(ids)
            if mine:
                detail += "; " + "; ".join(f"{p.field} {p.message}" for p in mine)
            self._add(
                f"table {mapped.name} = {live.id}",
                not mine,
                detail,
                "fix NINOX_SCHEMA or the database (manage.py ninox_check)"
                if mine
                else "filters and lookups use these ids",
            )
        return True

    def _mapped_tables(self) -> Iterable[tuple[MappedTable, TableSchema]]:
        schema = self._state.schema
        assert schema is not None
        for mapped in self.mapping.tables.values():
            live = schema.find_table(mapped.name)
            if live is not None:
                yield mapped, live

    # ---- pages and values ---------------------------------------------------------------

    def _check_pages_and_values(self) -> None:
        state = self._state
        verdict: tuple[bool, str, str] | None = None
        largest: tuple[int, str] = (0, "")
        for mapped, live in self._mapped_tables():
            try:
                rows = self._records(live.id, page=0, perPage=PROBE_PAGE_SIZE)
            except (NinoxError, _Unreadable) as exc:
                self._add(
                    f"records {live.name}",
                    False,
                    f"GET …/tables/{live.id}/records answered {_error_text(exc)}",
                    "the portal cannot read this table",
                )
                continue
            sample = _Sample(live, mapped, rows)
            state.samples.append(sample)
            self._remember(live.id, rows)
            count = len(rows)
            if count >= PROBE_PAGE_SIZE:
                sample.more = None
                if verdict is None or not verdict[0]:
                    state.per_page = PROBE_PAGE_SIZE
                    verdict = (
                        True,
                        f"asked {PROBE_PAGE_SIZE} on {live.name}, {count} came back",
                        f"pages of {PROBE_PAGE_SIZE}",
                    )
            elif count:
                try:
                    more = self._records(live.id, page=1, perPage=count)
                except (NinoxError, _Unreadable):
                    more = []
                self._remember(live.id, more)
                sample.more = bool(more)
                if more and verdict is None:
                    ok = count >= DOCUMENTED_PAGE_SIZE
                    state.per_page = count
                    verdict = (
                        ok,
                        f"asked {PROBE_PAGE_SIZE} on {live.name}, {count} came back and the"
                        " next page has more: capped at " + str(count),
                        f"pages of {count}"
                        + ("" if ok else f", below the documented default {DOCUMENTED_PAGE_SIZE}"),
                    )
                largest = max(largest, (count, live.name))
            self._check_values(sample)
        if verdict is None:
            size = max(DOCUMENTED_PAGE_SIZE, largest[0])
            state.per_page = size
            verdict = (
                True,
                f"no mapped table has more than {PROBE_PAGE_SIZE} records (largest: "
                f"{largest[1] or '-'}, {largest[0]}), all in one page: the cap is not reached",
                f"pages of {size}",
            )
        ok, detail, action = verdict
        self._add("perPage", ok, detail, action + "; paging still reads until a page is empty")

    def _remember(self, table_id: str, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            rid, seq = _int(row.get("id")), _int(row.get("sequence"))
            if rid is not None and seq is not None:
                self._state.seen[(table_id, rid)] = seq

    def _check_values(self, sample: _Sample) -> None:
        rows = sample.rows
        if not rows:
            self._add(
                f"values {sample.table.name}",
                True,
                "the table is empty: no values to check",
                "run the doctor again once it has records",
            )
            return
        shapes: list[str] = []
        bad: list[tuple[str, str]] = []
        for mf in sample.mapped.fields.values():
            if mf.formula:
                continue
            live = next((f for f in sample.table.fields if f.name == mf.name), None)
            keys = [mf.name] + ([live.id] if live is not None else [])
            values = [_field_value(row, keys) for row in rows]
            present = [v for v in values if v is not _ABSENT and v is not None]
            if not present:
                shapes.append(f"{mf.name} absent in all {len(rows)}")
                continue
            dated = mf.type in (FieldType.DATE, FieldType.DATETIME)
            kinds = sorted(
                {"epoch-ms number" if dated and _epoch_ms(v) else _value_shape(v) for v in present}
            )
            unreadable = [v for v in present if not _readable(mf.type, v)]
            label = f"{mf.name} {'/'.join(kinds)}"
            if len(present) < len(rows):
                label += f" ({len(rows) - len(present)} absent)"
            shapes.append(label)
            if unreadable:
                bad.append(
                    (
                        mf.name,
                        f"{mf.name} ({mf.type}) arrives as {_value_shape(unreadable[0])}"
                        f" {_clip(unreadable[0])} in {len(unreadable)} of {len(present)} rows",
                    )
                )
        self._add(
            f"values {sample.table.name}",
            not bad,
            f"{len(rows)} row(s): " + ", ".join(shapes),
            "read as expected" if not bad else "see the lines below",
        )
        for name, detail in bad:
            self._add(
                f"value {sample.table.name}.{name}",
                False,
                detail,
                "such records are quarantined (never counted as $0) and their lodges'"
                " applications go to review",
            )

    # ---- sinceSq ------------------------------------------------------------------------

    def _since(self, tables: Sequence[str], since: int) -> tuple[dict[tuple[str, int], Any], bool]:
        """``records?sinceSq=since`` of every mapped table (one page each), and whether that
        was everything (every page short)."""
        size = self._state.per_page
        got: dict[tuple[str, int], Any] = {}
        complete = True
        for table_id in tables:
            rows = self._records(table_id, sinceSq=since, perPage=size)
            self._remember(table_id, rows)
            complete = complete and len(rows) < size
            for row in rows:
                rid = _int(row.get("id"))
                if rid is not None:
                    got[(table_id, rid)] = _int(row.get("sequence"))
        return got, complete

    def _climb(self, tables: Sequence[str]) -> None:
        """Read records?sinceSq= until the newest records are all seen (a few calls).

        Sequences are database-wide; from the highest seen, gallop upwards while a
        reply fills its page, then halve the gap, until one reply is short but not empty.
        """
        state = self._state
        since = max(state.seen.values())
        step = state.per_page
        full: int | None = None
        empty: int | None = None
        for _ in range(12):
            got, complete = self._since(tables, since)
            if any(seq is None or seq <= since for seq in got.values()):
                return  # sinceSq is not honoured; the check below says so
            if got and complete:
                return
            if not got:
                empty = since
                if full is None:
                    return  # nothing after the highest sequence seen: the newest are known
            else:
                full = since
            if empty is None:
                top = max(seq for seq in got.values() if seq is not None)
                since, step = max(top, since + step), step * 2
            else:
                assert full is not None
                if empty - full <= 1:
                    return
                since = (full + empty) // 2

    def _check_since_sq(self) -> None:
        state = self._state
        tables = [live.id for _mapped, live in self._mapped_tables()]
        if not state.seen:
            self._add(
                "sinceSq",
                False,
                "no record with a sequence was seen",
                "cannot tell; the portal syncs with records?sinceSq= and repairs by a daily"
                " reconciliation",
            )
            return
        try:
            self._climb(tables)
            ordered = sorted(state.seen.items(), key=lambda item: item[1], reverse=True)
            pivot_key, since = ordered[min(3, len(ordered) - 1)]
            expected = {key for key, seq in state.seen.items() if seq > since}
            got, complete = self._since(tables, since)
        except (NinoxError, _Unreadable) as exc:
            self._add(
                "sinceSq",
                False,
                f"records?sinceSq= answered {_error_text(exc)}",
                "incremental sync cannot work here; report this",
            )
            return
        older = [key for key, seq in got.items() if seq is None or seq < since]
        missing = expected - set(got) if complete else set()
        if complete:
            state.recent, state.recent_since = set(got), since
        if older:
            self._add(
                "sinceSq",
                False,
                f"records?sinceSq={since} also returns {len(older)} record(s) changed before"
                f" {since}: the parameter is ignored",
                "every sync reads whole tables (correct, but costly)",
            )
        elif missing:
            self._add(
                "sinceSq",
                False,
                f"records?sinceSq={since} leaves out {len(missing)} record(s) changed after"
                f" {since}",
                "incremental sync would miss changes; the daily reconciliation repairs them;"
                " report this",
            )
        elif pivot_key in got:
            self._add(
                "sinceSq",
                True,
                f"records?sinceSq={since} returns sequence ≥ {since} (the record at {since} too)",
                "the sync reads one record twice: harmless",
            )
        else:
            counted = "none missing" if complete else "a full page: completeness not checked"
            self._add(
                "sinceSq",
                True,
                f"records?sinceSq={since} returns only sequence > {since} ({len(got)} record(s),"
                f" {counted})",
                "incremental sync reads only what changed",
            )

    # ---- change feed ----------------------------------------------------------------------

    def _feed(self, since: int) -> Any:
        return self.database.request("GET", "/changes", params={"sinceSq": since})

    def _check_change_feed(self) -> None:
        state = self._state
        off = "the portal syncs with records?sinceSq="
        since = state.recent_since
        if since is None or state.recent is None:
            self._add("change feed", False, "not compared: sinceSq could not be settled", off)
            return
        try:
            data = self._feed(since)
        except NinoxError as exc:
            self._add("change feed", False, f"…/changes answers {_error_text(exc)}", off)
            return
        feed = self._parse_feed(data)
        if isinstance(feed, str):
            self._add("change feed", False, f"…/changes answers {feed}", off)
            return
        mapped_ids = {live.id for _m, live in self._mapped_tables()}
        last_op = {(t, rid): op for t, rid, op, _rec, _seq in feed}
        # records?sinceSq= cannot show what was deleted since: compare the rest.
        listed = {key for key, op in last_op.items() if op != "delete" and key[0] in mapped_ids}
        stale = [seq for *_x, seq in feed if seq is not None and seq <= since]
        if stale or listed != state.recent:
            extra, lacking = listed - state.recent, state.recent - listed
            self._add(
                "change feed",
                False,
                f"…/changes?sinceSq={since} differs from records?sinceSq={since}"
                f" ({len(lacking)} missing, {len(extra)} extra, {len(stale)} not after {since})",
                off,
            )
            return
        state.feed_understood = True
        action = (
            "stays off until --write-test TABLE has shown creates, updates and deletes in it; "
            + off
        )
        previous = self.previous
        if previous is not None and previous.change_feed and not self._write_test_planned:
            # A write test showed every kind of change before, and the shape still holds.
            state.change_feed = True
            when = f" of {previous.checked_at:%Y-%m-%d}" if previous.checked_at else ""
            action = (
                f"stays on: the write test{when} showed creates, updates and deletes in it;"
                " the portal follows …/changes?sinceSq="
            )
        self._add(
            "change feed",
            True,
            f"…/changes?sinceSq={since} answers {{seq, changes: [{{seq, table, id, op,"
            f" record}}]}} matching records?sinceSq={since} ({len(listed)} record(s))",
            action,
        )

    def _parse_feed(self, data: Any) -> list[tuple[str, int, str, Any, int | None]] | str:
        """Every change as (table id, record id, op, record, seq), or why it cannot be read."""
        schema = self._state.schema
        assert schema is not None
        if isinstance(data, list):
            return (
                "a bare list of records (no table, no operation: deletes cannot show)"
                if data
                else "an empty list (a bare list of records: no table, no operation)"
            )
        if not isinstance(data, Mapping):
            return f"{_shape(data)}, which the portal cannot read"
        items = data.get("changes")
        if _int(data.get("seq")) is None or not isinstance(items, list):
            keys = ", ".join(sorted(str(k) for k in data))
            return f"an object {{{keys}}} the portal cannot read"
        out: list[tuple[str, int, str, Any, int | None]] = []
        for item in items:
            if not isinstance(item, Mapping):
                return "changes that are not objects"
            table = item.get("table", item.get("tableId"))
            found = schema.find_table(str(table)) if table is not None else None
            rid = _int(item.get("id"))
            op = _FEED_OPS.get(str(item.get("op", "")).lower())
            if found is None or rid is None or op is None:
                return (
                    f"a change the portal cannot place (table {table!r}, id {item.get('id')!r},"
                    f" op {item.get('op')!r})"
                )
            out.append((found.id, rid, op, item.get("record"), _int(item.get("seq"))))
        # A create or update must carry its record, unless the record was deleted later on.
        last_op = {(t, rid): op for t, rid, op, _rec, _seq in out}
        for t, rid, op, record, _seq in out:
            if op != "delete" and not isinstance(record, Mapping) and last_op[(t, rid)] != "delete":
                return f"a {op} without its record"
        return out

    # ---- lookups ------------------------------------------------------------------------

    def _lookup_target(self) -> _LookupTarget | None:
        """An existing record (not the table's first) with a value no other sampled row has."""
        table_key, field_key = self.lookup
        samples = sorted(
            self._state.samples, key=lambda s: s.mapped.key != table_key
        )  # the write-back's table first
        for sample in samples:
            mapped_fields = list(sample.mapped.fields.values())
            mapped_fields.sort(key=lambda f: f.key != field_key)
            rows = sample.rows
            if len(rows) < 2:
                continue
            first_id = min(_int(r.get("id")) or 0 for r in rows)
            for mf in mapped_fields:
                live = next((f for f in sample.table.fields if f.name == mf.name), None)
                if live is None or mf.formula or live.type not in _TEXT_TYPES | {FieldType.NUMBER}:
                    continue
                values = [_field_value(r, [mf.name, live.id]) for r in rows]
                counts: dict[str, int] = {}
                for v in values:
                    counts[repr(v)] = counts.get(repr(v), 0) + 1
                for row, value in zip(rows, values, strict=True):
                    rid = _int(row.get("id"))
                    if (
                        rid is not None
                        and rid != first_id
                        and isinstance(value, str | int | Decimal)
                        and not isinstance(value, bool)
                        and value != ""
                        and counts[repr(value)] == 1
                    ):
                        return _LookupTarget(sample.table, live.id, live.name, value, rid)
        return None

    def _lookup(self, form: str, table_id: str, body: Mapping[str, Any]) -> Any:
        if form == "post-filters":
            return self.database.request(
                "POST", _TABLE + "/record", path_params={"table": table_id},
                json={"filters": dict(body)}, idempotent=True,
            )  # fmt: skip
        if form == "post-flat":
            return self.database.request(
                "POST", _TABLE + "/record", path_params={"table": table_id},
                json=dict(body), idempotent=True,
            )  # fmt: skip
        return self._get(_RECORDS, table_id, params={"filters": dict(body)})

    def _lookup_verdict(self, form: str, target: _LookupTarget) -> tuple[bool, str]:
        """Whether ``form`` finds the target and answers nothing for a value nothing has."""
        body = {target.field_id: target.value}
        try:
            answer = self._lookup(form, target.table.id, body)
        except NinoxError as exc:
            return False, f"answers {_error_text(exc)} for record {target.record_id}'s own value"
        ids = _answer_ids(answer)
        if ids is None:
            return False, f"answers {_shape(answer)} for record {target.record_id}'s own value"
        if target.record_id not in ids:
            shown = ", ".join(str(i) for i in ids[:3]) or "nothing"
            return False, f"answers record {shown} for record {target.record_id}"
        if len(ids) > 1:
            return False, f"answers {len(ids)} records for one value"
        nothing = f"ninox-doctor no such value {secrets.token_hex(4)}"
        if not isinstance(target.value, str):
            nothing_value: Any = Decimal("-987654321.25")
        else:
            nothing_value = nothing
        try:
            answer = self._lookup(form, target.table.id, {target.field_id: nothing_value})
        except NinoxNotFound:
            return True, "no match is a 404"
        except NinoxError as exc:
            return False, f"answers {_error_text(exc)} for a value nothing has"
        ids = _answer_ids(answer)
        if ids:
            return False, f"answers record {ids[0]} for a value nothing has"
        return True, f"no match is {_shape(answer)}"

    def _check_lookups(self) -> None:
        state = self._state
        target = state.target = self._lookup_target()
        if target is None:
            self._add(
                "lookup",
                False,
                "no record with a value of its own to look up by",
                "write-back decides with an NX query and reads every id back"
                " (run --write-test TABLE to settle the lookup form)",
            )
            return
        for form in LOOKUP_FORMS:
            ok, why = self._lookup_verdict(form, target)
            described = _describe_form(form, target)
            if ok:
                state.honoured.append(form)
                first = len(state.honoured) == 1
                state.lookup_form = state.honoured[0]
                self._add(
                    f"lookup {form}",
                    True,
                    f"{described} returns the right record ({why})",
                    "write-back uses it (every answer still checked)"
                    if first
                    else f"honoured too; {state.honoured[0]} comes first",
                )
            else:
                self._add(f"lookup {form}", False, f"{described} {why}", "never used")
        if not state.honoured:
            self._add(
                "lookup",
                False,
                "no lookup form returned the right record",
                "write-back decides with an NX query and reads every id back",
            )

    # ---- query --------------------------------------------------------------------------

    def _check_query(self) -> None:
        state = self._state
        target = state.target
        if target is not None:
            where = nx.eq(target.field_name, target.value)
            expr: Any = nx.count(nx.select(target.table.name).where(where))
        else:
            table = next(iter(self._mapped_tables()), None)
            if table is None:
                return
            expr = nx.count(nx.select(table[1].name))
        try:
            answer = self.database.request(
                "POST", "/query", json={"query": str(expr)}, idempotent=True
            )
        except NinoxError as exc:
            state.query = False
            self._add(
                "query",
                False,
                f"POST …/query answers {_error_text(exc)}",
                self._without_query(),
            )
            return
        value = _number(answer)
        if value is None or (target is not None and value != 1):
            state.query = False
            self._add(
                "query",
                False,
                f"POST …/query {{'query': {str(expr)!r}}} answers {_clip(answer)}",
                self._without_query(),
            )
            return
        self._add(
            "query",
            True,
            f"POST …/query {{'query': {str(expr)!r}}} answers {value}",
            "drift check and query-verified write-back available",
        )

    def _without_query(self) -> str:
        form = self._state.lookup_form
        if form:
            return f"no drift check; write-back confirms its row with the verified lookup ({form})"
        return "no drift check; write-back cannot confirm a row: it holds rows for finance"

    # ---- error body -------------------------------------------------------------------------

    def _check_error_body(self) -> None:
        state = self._state
        table = next(iter(self._mapped_tables()), None)
        if table is None:
            return
        path = self._db_path(f"/tables/{quote(table[1].id, safe='')}/records/{MISSING_RECORD_ID}")
        try:
            with self.http_factory() as http:
                state.raw_calls += 1
                response = http.get(path)
        except httpx.HTTPError as exc:
            self._add("error body", False, f"no reply ({type(exc).__name__})", "")
            return
        shape = _error_shape(response)
        ok = response.status_code == 404 and shape != "an empty body"
        self._add(
            "error body",
            ok,
            f"a missing record answers {response.status_code} with {shape}",
            "Ninox's words are shown with every error" if ok else "errors are shown by status only",
        )

    # ---- latency ----------------------------------------------------------------------------

    def _check_latency(self) -> None:
        table = next(iter(self._mapped_tables()), None)
        if table is None or self.latency_samples <= 0:
            return
        durations: list[float] = []
        for _ in range(self.latency_samples):
            start = self.clock()
            try:
                self._records(table[1].id, perPage=1)
            except (NinoxError, _Unreadable):
                continue
            durations.append(self.clock() - start)
        if not durations:
            self._add("latency", False, "no call answered", "")
            return
        p50, p95 = _percentile(durations, 50), _percentile(durations, 95)
        ok = p95 <= SLOW_P95_SECONDS
        self._add(
            "latency",
            ok,
            f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {len(durations)} calls",
            "a decision's refresh takes about this long"
            if ok
            else "decisions wait this long for Ninox; the portal's timeout still applies",
        )

    # ---- parallel calls -----------------------------------------------------------------------

    def _check_parallel(self) -> None:
        state = self._state
        table = next(iter(self._mapped_tables()), None)
        if table is None:
            return
        path = self._db_path(f"/tables/{quote(table[1].id, safe='')}/records")
        statuses: list[int | str] = []
        barrier = threading.Barrier(2)
        lock = threading.Lock()

        def call() -> None:
            try:
                with self.http_factory() as http:
                    barrier.wait(timeout=10)
                    status: int | str = http.get(path, params={"perPage": 1}).status_code
            except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
                status = type(exc).__name__
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=call, daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        state.raw_calls += 2
        refused = any(s == 429 or (isinstance(s, int) and s >= 500) for s in statuses)
        state.parallel_refused = refused if all(isinstance(s, int) for s in statuses) else None
        self._add(
            "parallel calls",
            True,
            "two calls at once answered "
            + " and ".join(str(s) for s in sorted(map(str, statuses))),
            "the portal keeps one call in flight per key"
            + (" (required here)" if refused else " (Ninox asks for it)"),
        )

    # ---- write test -----------------------------------------------------------------------------

    def _write_test(self, table_name: str, *, force: bool) -> str | None:
        state = self._state
        schema = state.schema
        assert schema is not None
        table = schema.find_table(table_name)
        if table is None:
            reason = f"the database has no table {table_name!r}"
            self._add("write test", False, reason, "nothing written")
            return reason
        triggers = _triggers(state.raw_schema, table.id)
        if triggers and not force:
            reason = f"{table.name} has {', '.join(triggers)} (NX that runs on every write)"
            self._add("write test", False, reason, "nothing written; --force runs it anyway")
            return reason
        marker_field = next(
            (f for f in table.fields if f.type == FieldType.TEXT and not f.formula), None
        )
        if marker_field is None:
            reason = f"{table.name} has no text field to mark a scratch record with"
            self._add("write test", False, reason, "nothing written; pick another table")
            return reason
        marker = f"ninox-doctor scratch {self.now():%Y%m%dT%H%M%S} {secrets.token_hex(3)}"
        try:
            created = self.database.request(
                "POST", _RECORDS, path_params={"table": table.id},
                json=[{"fields": {marker_field.id: marker}}], idempotent=False,
            )  # fmt: skip
        except NinoxError as exc:
            self._add("write test", False, f"create answered {_error_text(exc)}", "")
            return None
        record = created[0] if isinstance(created, list) and created else created
        rid = _int(record.get("id")) if isinstance(record, Mapping) else None
        if rid is None:
            self._add("write test", False, f"create answered {_shape(created)}", "")
            return None
        created_seq = _int(record.get("sequence")) if isinstance(record, Mapping) else None
        deleted = False
        try:
            self._add(
                "write test",
                True,
                f"created record {rid} in {table.name} ({marker_field.name} = {marker!r})",
                "",
            )
            seen: dict[str, tuple[bool, str]] = {}
            before = (
                (created_seq - 1)
                if created_seq is not None
                else max(state.seen.values(), default=0)
            )
            seen["create"] = self._feed_shows(before, table.id, rid, "create", marker_field, marker)
            self._write_test_lookup(table, marker_field.id, marker, rid)
            updated_marker = marker + " updated"
            reply = self.database.request(
                "PUT", _RECORD, path_params={"table": table.id, "record": rid},
                json={"fields": {marker_field.id: updated_marker}},
            )  # fmt: skip
            updated_seq = _int(reply.get("sequence")) if isinstance(reply, Mapping) else None
            after_create = (updated_seq - 1) if updated_seq is not None else before
            seen["update"] = self._feed_shows(
                after_create, table.id, rid, "update", marker_field, updated_marker
            )
            self.database.request("DELETE", _RECORD, path_params={"table": table.id, "record": rid})
            deleted = True
            try:
                self._get(_RECORD, table.id, path_params={"record": rid})
                gone = False
            except NinoxNotFound:
                gone = True
            self._add(
                "write test",
                gone,
                f"updated and deleted record {rid}"
                + ("; reading it now answers 404" if gone else "; it can still be read"),
                "" if gone else "delete it by hand in Ninox",
            )
            seen["delete"] = self._feed_shows(
                updated_seq if updated_seq is not None else after_create,
                table.id, rid, "delete", marker_field, None,
            )  # fmt: skip
        except NinoxError as exc:
            self._add("write test", False, f"stopped: {_error_text(exc)}", "")
            seen = {}
        finally:
            if not deleted:
                self._cleanup(table, rid)
        shown = len(seen) == 3 and all(ok for ok, _how in seen.values())
        state.change_feed = shown and state.feed_understood
        if seen:
            hows = {how for _ok, how in seen.values()}
            if len(seen) == 3 and len(hows) == 1:
                detail = f"create, update and delete: {hows.pop()}"
            else:
                detail = "; ".join(f"{op}: {how}" for op, (_ok, how) in seen.items())
            if state.change_feed:
                self._add(
                    "change feed (write test)",
                    True,
                    detail,
                    "the portal follows …/changes?sinceSq=",
                )
            else:
                why = (
                    ""
                    if state.feed_understood or not shown
                    else ", but the read-only comparison with records?sinceSq= did not hold"
                )
                self._add(
                    "change feed (write test)",
                    False,
                    detail + why,
                    "the portal syncs with records?sinceSq=",
                )
        return None

    def _cleanup(self, table: TableSchema, rid: int) -> None:
        try:
            self.database.request("DELETE", _RECORD, path_params={"table": table.id, "record": rid})
        except NinoxError as exc:
            self._add(
                "write test",
                False,
                f"the scratch record {rid} in {table.name} could not be deleted"
                f" ({_error_text(exc)})",
                "delete it by hand in Ninox",
            )

    def _feed_shows(
        self,
        since: int,
        table_id: str,
        rid: int,
        op: str,
        marker_field: Any,
        marker: str | None,
    ) -> tuple[bool, str]:
        """Whether the feed after ``since`` shows this change plainly, and how it shows it."""
        try:
            data = self._feed(since)
        except NinoxError as exc:
            return False, f"…/changes answers {_error_text(exc)}"
        feed = self._parse_feed(data)
        if isinstance(feed, str):
            if isinstance(data, list):
                hits = [r for r in data if isinstance(r, Mapping) and _int(r.get("id")) == rid]
                return False, "absent" if not hits else "a record without table or operation"
            return False, feed
        mine = [c for c in feed if c[0] == table_id and c[1] == rid]
        if not mine:
            return False, "absent"
        last = mine[-1]
        if last[2] != op:
            return False, f"shown as {last[2]!r}"
        if marker is not None:
            value = _field_value(last[3], [marker_field.name, marker_field.id])
            if value != marker:
                return False, f"op {op!r} without the new value"
            return True, f"op {op!r} with the new record"
        return True, f"op {op!r} with table and id"

    def _write_test_lookup(self, table: TableSchema, field_id: str, marker: str, rid: int) -> None:
        state = self._state
        forms = list(state.honoured) or list(LOOKUP_FORMS)
        target = _LookupTarget(table, field_id, "", marker, rid)
        confirmed: list[str] = []
        for form in forms:
            ok, _why = self._lookup_verdict(form, target)
            if ok:
                confirmed.append(form)
        if state.honoured:
            lost = [f for f in state.honoured if f not in confirmed]
            state.honoured = [f for f in state.honoured if f in confirmed]
        else:
            lost = []
            state.honoured = confirmed
        state.lookup_form = state.honoured[0] if state.honoured else None
        self._add(
            "write test lookup",
            not lost and bool(confirmed),
            f"looking up the scratch record by {field_id}: "
            + (", ".join(confirmed) or "no form")
            + " found it"
            + (f"; {', '.join(lost)} did not" if lost else ""),
            f"write-back uses {state.lookup_form}"
            if state.lookup_form
            else "write-back decides with an NX query and reads every id back",
        )


# ---- helpers ------------------------------------------------------------------------------------


class _Unreadable(Exception):
    """A reply the doctor could not read as what it asked for."""


_ABSENT = object()


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return None


def _field_value(row: Any, names: Sequence[str]) -> Any:
    """A field's value in a raw record (by name, else by id); ``_ABSENT`` when not there."""
    fields = row.get("fields") if isinstance(row, Mapping) else None
    if not isinstance(fields, Mapping):
        return _ABSENT
    for name in names:
        if name in fields:
            return fields[name]
    return _ABSENT


def _value_shape(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal | float):
        return "number"
    if isinstance(value, str):
        if _ISO_DATE.match(value):
            return '"YYYY-MM-DD"'
        if _ISO_DATETIME.match(value):
            return '"YYYY-MM-DDThh:mm"'
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _epoch_ms(value: Any) -> bool:
    number = _number(value)
    return number is not None and _EPOCH_MS_2000 <= number < _EPOCH_MS_2100


def _readable(kind: str, value: Any) -> bool:
    """Whether the portal reads ``value`` as a field of ``kind`` without guessing."""
    if kind in _TEXT_TYPES:
        return isinstance(value, str)
    if kind == FieldType.NUMBER:
        return _number(value) is not None
    if kind == FieldType.BOOLEAN:
        return isinstance(value, bool)
    if kind == FieldType.REFERENCE:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == FieldType.DATE:
        return (isinstance(value, str) and bool(_ISO_DATE.match(value))) or _epoch_ms(value)
    if kind == FieldType.DATETIME:
        return (isinstance(value, str) and bool(_ISO_DATETIME.match(value))) or _epoch_ms(value)
    if kind == FieldType.MULTI:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True


def _answer_ids(answer: Any) -> list[int] | None:
    """The record ids a lookup answered with ([] for nothing), or None if it is no record."""
    if answer is None or answer == [] or answer == {}:
        return []
    items = answer if isinstance(answer, list) else [answer]
    ids = []
    for item in items:
        rid = _int(item.get("id")) if isinstance(item, Mapping) else None
        if rid is None:
            return None
        ids.append(rid)
    return ids


def _describe_form(form: str, target: _LookupTarget) -> str:
    value = _clip(target.value)
    table = f"…/tables/{target.table.id}"
    if form == "post-filters":
        return f'POST {table}/record {{"filters": {{"{target.field_id}": {value}}}}}'
    if form == "post-flat":
        return f'POST {table}/record {{"{target.field_id}": {value}}}'
    return f'GET {table}/records?filters={{"{target.field_id}": {value}}}'


def _triggers(raw_schema: Any, table_id: str) -> list[str]:
    """``afterCreate``/``afterUpdate`` triggers of a table (and its fields) in the raw schema.

    A schema without ``types`` (from ``…/tables``) cannot show triggers: reported as unknown.
    """
    schema = raw_schema.get("schema") if isinstance(raw_schema, Mapping) else None
    types = schema.get("types") if isinstance(schema, Mapping) else None
    if not isinstance(types, Mapping):
        return ["triggers the schema does not show"]
    spec = types.get(table_id)
    if not isinstance(spec, Mapping):
        return ["triggers the schema does not show"]
    found = [name for name in ("afterCreate", "afterUpdate") if spec.get(name)]
    fields = spec.get("fields")
    if isinstance(fields, Mapping):
        for field_id, field_spec in fields.items():
            if isinstance(field_spec, Mapping) and field_spec.get("afterUpdate"):
                caption = field_spec.get("caption", field_id)
                found.append(f"afterUpdate on {caption}")
    return [f"an {name} trigger" for name in found]


def _error_shape(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text:
        return "an empty body"
    try:
        data = loads(text)
    except ValueError:
        return f"plain text {_clip(text)}"
    if isinstance(data, Mapping):
        if isinstance(data.get("message"), str):
            return f'JSON {{"message": {_clip(data["message"])}}}'
        error = data.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return f'JSON {{"error": {{"message": {_clip(error["message"])}}}}}'
        if isinstance(error, str):
            return f'JSON {{"error": {_clip(error)}}}'
        return "a JSON object without a message"
    if isinstance(data, str):
        return f"a JSON string {_clip(data)}"
    return f"JSON {_shape(data)}"


def _percentile(values: Sequence[float], pct: int) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _shape(data: Any) -> str:
    if data is None:
        return "nothing"
    if isinstance(data, list):
        return f"a list of {len(data)}"
    if isinstance(data, Mapping):
        return "an object {" + ", ".join(sorted(str(k) for k in data)[:6]) + "}"
    if isinstance(data, str):
        return f"text {_clip(data)}"
    return f"{type(data).__name__} {_clip(data)}"


def _clip(value: Any, limit: int = 60) -> str:
    text = f'"{value}"' if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(exc: NinoxError) -> str:
    return str(exc.message)[:120]


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, NinoxError):
        status = f"{exc.status} " if exc.status is not None else ""
        return f"{status}({type(exc).__name__}: {_short(exc)})"
    return str(exc)[:120]
