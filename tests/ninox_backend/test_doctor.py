"""The doctor: each check against the emulator, and against the other ways a Ninox may answer.

Every emulator variant (the legacy and docs dialects, and the docs dialect's faults)
gets the profile it should. Other ways still are made by a transport in front of the
legacy emulator that rewrites one endpoint's reply (a lookup that ignores its filters,
a feed that does not net, …), so every other call still meets a real server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings

from ninox_backend import NinoxClient, RetryPolicy
from ninox_backend.doctor import Doctor, DoctorReport, format_finding, safe_base_url
from ninox_backend.mapping import SchemaMapping
from ninox_backend.profile import Finding
from ninox_backend.testing import CLASSIC_VARIANTS, EmulatedNinox, EmulatorVariant, demo_ninox
from ninox_backend.types import dumps, loads

Hook = Callable[[httpx.Request, Callable[[httpx.Request], httpx.Response]], httpx.Response]


class Rewriting(httpx.BaseTransport):
    """The emulator, with ``hook(request, forward)`` deciding each reply."""

    def __init__(self, inner: httpx.BaseTransport, hook: Hook) -> None:
        self.inner, self.hook = inner, hook
        self.writes: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PUT", "DELETE") and not request.url.path.endswith(
            ("/record", "/query")
        ):
            self.writes.append(f"{request.method} {request.url.path}")
        return self.hook(request, self._forward)

    def _forward(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return response


def passthrough(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
    return forward(request)


def json_reply(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=dumps(data).encode(), headers={"Content-Type": "application/json"}
    )


def body_of(response: httpx.Response) -> Any:
    return loads(response.content)


@pytest.fixture
def emulated() -> Iterator[EmulatedNinox]:
    """The legacy dialect: the rewriting hooks below start from its replies."""
    with demo_ninox(seed=42, dialect="legacy") as ninox:
        yield ninox


def diagnose(
    ninox: EmulatedNinox,
    hook: Hook = passthrough,
    write_test: str | None = None,
    force: bool = False,
) -> tuple[DoctorReport, Rewriting]:
    transport = Rewriting(ninox.transport, hook)
    client = NinoxClient(
        token=ninox.token,
        base_url=ninox.base_url,
        transport=transport,
        retry=RetryPolicy(max_retries=0),
    )
    doctor = Doctor(
        client.database(ninox.team_id, ninox.database_id), SchemaMapping(settings.NINOX_SCHEMA)
    )
    report = doctor.run(write_test, force=force)
    client.close()
    return report, transport


def finding(report: DoctorReport, check: str) -> Finding:
    matches = [f for f in report.findings if f.check == check]
    assert matches, f"no finding {check!r} in {[f.check for f in report.findings]}"
    return matches[-1]


def database_seq(ninox: EmulatedNinox) -> int:
    with ninox.client() as http:
        reply = http.get(f"/teams/{ninox.team_id}/databases/{ninox.database_id}")
        return int(reply.json()["schema"]["seq"])


def every_record(ninox: EmulatedNinox) -> dict[tuple[str, int], tuple[int, Any]]:
    """(table, id) → (sequence, fields) of every record, read straight from the emulator."""
    out: dict[tuple[str, int], tuple[int, Any]] = {}
    path = f"/teams/{ninox.team_id}/databases/{ninox.database_id}/tables/{{}}/records"
    with ninox.client() as http:
        for table in ("A", "B"):
            page = 0
            while rows := http.get(path.format(table), params={"page": page}).json():
                out.update({(table, r["id"]): (r["sequence"], r["fields"]) for r in rows})
                page += 1
    return out


def is_path(request: httpx.Request, suffix: str) -> bool:
    return request.url.path.endswith(suffix)


# ---- every emulator variant ---------------------------------------------------------------------

#: what the doctor must store for each variant, read-only and after --write-test Grants
EXPECTED = {
    "legacy": {"per_page": 500, "query": True, "feed_after_write_test": True},
    "docs": {"per_page": 100, "query": True, "feed_after_write_test": False},
    "docs-changes_404": {"per_page": 100, "query": True, "feed_after_write_test": False},
    "docs-dates_epoch_ms": {"per_page": 100, "query": True, "feed_after_write_test": False},
    "docs-query_refused": {"per_page": 100, "query": False, "feed_after_write_test": False},
}


def test_every_classic_emulator_variant_has_an_expected_profile() -> None:
    # the workspace API's doctor: test_doctor_workspace.py
    assert set(EXPECTED) == {v.id for v in CLASSIC_VARIANTS}


@pytest.mark.parametrize("variant", CLASSIC_VARIANTS, ids=lambda v: v.id)
def test_each_variant_gets_the_profile_it_shows(variant: EmulatorVariant) -> None:
    expected = EXPECTED[variant.id]
    with demo_ninox(seed=42, dialect=variant.dialect, faults=variant.faults) as ninox:
        before = database_seq(ninox)
        records_before = every_record(ninox)
        assert len(records_before) == 1620  # 120 lodges, 1500 grants
        report, transport = diagnose(ninox)
        assert transport.writes == []
        assert database_seq(ninox) == before
        written, _ = diagnose(ninox, write_test="Grants")
        # the write test changed nothing but its own scratch record, which is gone again
        assert every_record(ninox) == records_before
    profile = report.profile
    assert profile.api == "classic"
    assert profile.lookup_form == "post-filters"
    assert profile.per_page == expected["per_page"]
    assert profile.query is expected["query"]
    assert profile.change_feed is False
    assert written.profile.change_feed is expected["feed_after_write_test"]
    assert written.profile.lookup_form == "post-filters"
    assert finding(report, "sinceSq").ok
    assert finding(report, "values Grants").ok
    assert finding(report, "values Lodges").ok
    # a lookup that ignores the flat body answers the table's first record: never used
    assert finding(report, "lookup post-flat").ok is (variant.dialect == "docs")


def test_the_docs_dialect_shows_its_bare_feed_plain_text_errors_and_page_cap() -> None:
    with demo_ninox(seed=42, dialect="docs") as ninox:
        report, _ = diagnose(ninox, write_test="Grants")
    assert "a bare list of records" in finding(report, "change feed").detail
    assert "with plain text" in finding(report, "error body").detail
    assert "capped at 100" in finding(report, "perPage").detail
    written = finding(report, "change feed (write test)")
    assert not written.ok
    assert "delete: absent" in written.detail


def test_a_docs_feed_that_answers_404_stays_off() -> None:
    with demo_ninox(seed=42, dialect="docs", faults="changes_404") as ninox:
        report, _ = diagnose(ninox)
    feed = finding(report, "change feed")
    assert not feed.ok
    assert feed.detail.startswith("…/changes answers 404")


def test_docs_dates_as_epoch_milliseconds_are_named() -> None:
    with demo_ninox(seed=42, dialect="docs", faults="dates_epoch_ms") as ninox:
        report, _ = diagnose(ninox)
    assert "Grant Date epoch-ms number" in finding(report, "values Grants").detail


# ---- the emulator as it is --------------------------------------------------------------------


def test_it_settles_every_check_on_the_emulator_and_stores_what_it_saw(
    emulated: EmulatedNinox,
) -> None:
    report, _ = diagnose(emulated)
    profile = report.profile
    assert profile.api == "classic"
    assert profile.per_page == 500
    assert profile.lookup_form == "post-filters"
    assert profile.query is True
    assert profile.parallel_refused is False
    assert profile.change_feed is False  # read-only: never on without the write test
    assert profile.stored
    assert profile.base_url == "http://ninox.test/v1"
    assert all(f.ok for f in report.findings if f.check != "lookup post-flat"), [
        format_finding(f) for f in report.findings if not f.ok
    ]
    assert "capped" not in finding(report, "perPage").detail
    assert "only sequence >" in finding(report, "sinceSq").detail
    assert "--write-test" in finding(report, "change feed").action


def test_it_names_the_ids_of_every_mapped_table_and_field(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated)
    grants = finding(report, "table Grants = B")
    assert grants.ok
    assert "Lodge A, Reference B, Amount C, Grant Date D" in grants.detail
    assert finding(report, "table Lodges = A").ok


def test_it_is_read_only_by_default(emulated: EmulatedNinox) -> None:
    before = database_seq(emulated)
    _, transport = diagnose(emulated)
    assert transport.writes == []
    assert database_seq(emulated) == before


def feed_without_netting(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    """A feed that lists a deleted record's create too (its record gone with it)."""
    response = forward(request)
    if is_path(request, "/changes"):
        data = body_of(response)
        changes = []
        for change in data["changes"]:
            if change["op"] == "delete":
                changes.append({**change, "seq": change["seq"] - 1, "op": "create"})
            changes.append(change)
        return json_reply({**data, "changes": changes})
    return response


def test_a_record_created_and_deleted_lately_does_not_spoil_the_feed_comparison(
    emulated: EmulatedNinox,
) -> None:
    with emulated.client() as http:
        records = "/teams/demo/databases/grants/tables/B/records"
        created = http.post(records, json=[{"fields": {"Reference": "MG-2026-09999"}}]).json()
        http.delete(f"{records}/{created[0]['id']}").raise_for_status()
    report, _ = diagnose(emulated, feed_without_netting)
    assert finding(report, "change feed").ok


def test_a_lookup_that_answers_the_first_record_for_an_unknown_body_is_never_used(
    emulated: EmulatedNinox,
) -> None:
    report, _ = diagnose(emulated)
    flat = finding(report, "lookup post-flat")
    assert not flat.ok
    assert "answers record 1 for record" in flat.detail
    assert flat.action == "never used"


def test_the_value_shapes_of_every_mapped_field_are_reported(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated)
    grants = finding(report, "values Grants")
    assert grants.ok
    assert "Lodge int" in grants.detail
    assert 'Grant Date "YYYY-MM-DD"' in grants.detail
    assert "Reference text (" in grants.detail  # hand-entered grants have none
    assert "Active bool" in finding(report, "values Lodges").detail


def test_the_error_body_latency_and_parallel_calls_are_measured(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated)
    assert 'JSON {"message":' in finding(report, "error body").detail
    assert "over 5 calls" in finding(report, "latency").detail
    assert "200 and 200" in finding(report, "parallel calls").detail


# ---- the write test ------------------------------------------------------------------------------


def test_the_write_test_switches_the_feed_on_after_create_update_and_delete_show(
    emulated: EmulatedNinox,
) -> None:
    with emulated.client() as http:
        before = len(
            http.get("/teams/demo/databases/grants/tables/B/records?perPage=1000&page=1").json()
        )
    report, transport = diagnose(emulated, write_test="Grants")
    assert report.write_test_refused is None
    assert report.profile.change_feed is True
    feed = finding(report, "change feed (write test)")
    assert feed.ok
    assert feed.detail == (
        "create: op 'create' with the new record; update: op 'update' with the new record;"
        " delete: op 'delete' with table and id"
    )
    assert [w.split(" ")[0] for w in transport.writes] == ["POST", "PUT", "DELETE"]
    with emulated.client() as http:
        after = http.get("/teams/demo/databases/grants/tables/B/records?perPage=1000&page=1").json()
    assert len(after) == before  # the scratch record is gone
    assert not any("ninox-doctor" in str(r["fields"]) for r in after)


def with_trigger(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
    response = forward(request)
    if request.method == "GET" and is_path(request, "/databases/grants"):
        data = body_of(response)
        data["schema"]["types"]["B"]["afterCreate"] = 'Status := "Approved"'
        return json_reply(data)
    return response


def test_the_write_test_refuses_a_table_with_an_after_create_trigger(
    emulated: EmulatedNinox,
) -> None:
    before = database_seq(emulated)
    report, transport = diagnose(emulated, with_trigger, write_test="Grants")
    assert (
        report.write_test_refused
        == "Grants has an afterCreate trigger (NX that runs on every write)"
    )
    assert transport.writes == []
    assert database_seq(emulated) == before
    assert report.profile.change_feed is False


def test_the_write_test_runs_on_a_table_with_triggers_when_forced(emulated: EmulatedNinox) -> None:
    report, transport = diagnose(emulated, with_trigger, write_test="Grants", force=True)
    assert report.write_test_refused is None
    assert len(transport.writes) == 3


def test_the_write_test_refuses_an_unknown_table(emulated: EmulatedNinox) -> None:
    report, transport = diagnose(emulated, write_test="Invoices")
    assert report.write_test_refused == "the database has no table 'Invoices'"
    assert transport.writes == []


# ---- a Ninox that answers otherwise --------------------------------------------------------------


def bare_list_feed(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    response = forward(request)
    if is_path(request, "/changes"):
        data = body_of(response)
        return json_reply([c["record"] for c in data["changes"] if c["record"] is not None])
    return response


def test_a_bare_list_change_feed_is_never_switched_on(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, bare_list_feed, write_test="Grants")
    feed = finding(report, "change feed")
    assert not feed.ok
    assert "a bare list of records" in feed.detail
    assert feed.action == "the portal syncs with records?sinceSq="
    written = finding(report, "change feed (write test)")
    assert not written.ok
    assert written.detail.startswith("create: a record without table or operation;")
    assert "delete: absent" in written.detail
    assert report.profile.change_feed is False


def feed_404(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
    if is_path(request, "/changes"):
        return httpx.Response(404, text="Not Found")
    return forward(request)


def test_a_missing_change_feed_means_records_since_sq(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, feed_404, write_test="Grants")
    feed = finding(report, "change feed")
    assert not feed.ok
    assert "404" in feed.detail
    written = finding(report, "change feed (write test)")
    assert written.detail.startswith("create, update and delete: …/changes answers 404")
    assert report.profile.change_feed is False


def feed_without_ops(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    response = forward(request)
    if is_path(request, "/changes"):
        data = body_of(response)
        for change in data["changes"]:
            change.pop("op")
        return json_reply(data)
    return response


def test_a_feed_whose_changes_cannot_be_placed_is_not_understood(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, feed_without_ops)
    feed = finding(report, "change feed")
    assert not feed.ok
    assert "a change the portal cannot place" in feed.detail


def lookup_ignores_filters(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    if request.method == "POST" and is_path(request, "/record"):
        first = forward(
            httpx.Request(
                "GET", str(request.url).replace("/record", "/records/1"), headers=request.headers
            )
        )
        return json_reply(body_of(first)) if first.status_code == 200 else first
    if request.method == "GET" and "filters" in request.url.params:
        params = {k: v for k, v in request.url.params.items() if k != "filters"}
        return forward(
            httpx.Request("GET", request.url.copy_with(params=params), headers=request.headers)
        )
    return forward(request)


def test_no_lookup_form_is_used_when_every_form_answers_the_first_record(
    emulated: EmulatedNinox,
) -> None:
    report, _ = diagnose(emulated, lookup_ignores_filters)
    assert report.profile.lookup_form is None
    for form in ("post-filters", "post-flat", "get-records-filters"):
        assert not finding(report, f"lookup {form}").ok
    assert "NX query" in finding(report, "lookup").action


def lookup_answers_anything_for_no_match(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    response = forward(request)
    if request.method == "POST" and is_path(request, "/record") and response.status_code == 404:
        return forward(
            httpx.Request(
                "GET", str(request.url).replace("/record", "/records/1"), headers=request.headers
            )
        )
    return response


def test_a_lookup_that_answers_a_record_for_a_value_nothing_has_is_not_used(
    emulated: EmulatedNinox,
) -> None:
    report, _ = diagnose(emulated, lookup_answers_anything_for_no_match)
    post = finding(report, "lookup post-filters")
    assert not post.ok
    assert "for a value nothing has" in post.detail
    assert report.profile.lookup_form == "get-records-filters"


def capped_at(cap: int) -> Hook:
    def hook(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
        if request.method == "GET" and is_path(request, "/records"):
            params = dict(request.url.params)
            asked = int(params.get("perPage", 100))
            page = int(params.get("page", 0))
            # The server pages by its own size, whatever was asked.
            size = min(asked, cap)
            params.update(perPage=str(size), page=str(page))
            return forward(
                httpx.Request("GET", request.url.copy_with(params=params), headers=request.headers)
            )
        return forward(request)

    return hook


def test_a_page_cap_is_found_and_stored(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, capped_at(100))
    per_page = finding(report, "perPage")
    assert per_page.ok
    assert "100 came back and the next page has more: capped at 100" in per_page.detail
    assert report.profile.per_page == 100
    # sinceSq still finds the newest records, so the feed is compared with all of them
    assert "none missing" in finding(report, "sinceSq").detail
    assert finding(report, "change feed").ok


def test_a_cap_below_the_documented_default_is_flagged(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, capped_at(75))
    assert not finding(report, "perPage").ok
    assert report.profile.per_page == 75


def rewrite_grant_fields(change: Callable[[dict[str, Any]], None]) -> Hook:
    def hook(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
        response = forward(request)
        if (
            request.method == "GET"
            and "/tables/B/records" in request.url.path
            and response.status_code == 200
        ):
            data = body_of(response)
            for row in data if isinstance(data, list) else [data]:
                change(row["fields"])
            return json_reply(data)
        return response

    return hook


def test_a_lodge_link_that_arrives_as_a_caption_is_named(emulated: EmulatedNinox) -> None:
    def caption(fields: dict[str, Any]) -> None:
        if "Lodge" in fields:
            fields["Lodge"] = f"Lodge {fields['Lodge']}"

    report, _ = diagnose(emulated, rewrite_grant_fields(caption))
    assert not finding(report, "values Grants").ok
    lodge = finding(report, "value Grants.Lodge")
    assert not lodge.ok
    assert lodge.detail.startswith('Lodge (reference) arrives as text "Lodge')
    assert "in 500 of 500 rows" in lodge.detail
    assert "quarantined" in lodge.action


def test_dates_as_epoch_milliseconds_are_readable_and_said_so(emulated: EmulatedNinox) -> None:
    def epoch(fields: dict[str, Any]) -> None:
        fields["Grant Date"] = 1_777_593_600_000  # 2026-05-01

    report, _ = diagnose(emulated, rewrite_grant_fields(epoch))
    values = finding(report, "values Grants")
    assert values.ok
    assert "Grant Date epoch-ms number" in values.detail


def test_a_date_number_outside_2000_to_2100_is_not_readable(emulated: EmulatedNinox) -> None:
    def seconds(fields: dict[str, Any]) -> None:
        fields["Grant Date"] = 1_777_593_600  # epoch seconds: 1970 in milliseconds

    report, _ = diagnose(emulated, rewrite_grant_fields(seconds))
    date = finding(report, "value Grants.Grant Date")
    assert date.detail.startswith("Grant Date (date) arrives as int 1777593600")


def since_sq_ignored(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    if request.method == "GET" and "sinceSq" in request.url.params and is_path(request, "/records"):
        params = {k: v for k, v in request.url.params.items() if k != "sinceSq"}
        return forward(
            httpx.Request("GET", request.url.copy_with(params=params), headers=request.headers)
        )
    return forward(request)


def test_an_ignored_since_sq_is_reported(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, since_sq_ignored)
    since = finding(report, "sinceSq")
    assert not since.ok
    assert "the parameter is ignored" in since.detail


def query_refused(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
    if is_path(request, "/query"):
        return httpx.Response(403, text="Forbidden: query is not enabled for this key")
    return forward(request)


def test_a_refused_query_is_stored_as_no_query(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, query_refused)
    assert report.profile.query is False
    query = finding(report, "query")
    assert "403" in query.detail
    assert query.action == (
        "no drift check; write-back confirms its row with the verified lookup (post-filters)"
    )


def test_without_query_or_lookup_the_write_back_holds_rows_for_finance(
    emulated: EmulatedNinox,
) -> None:
    def neither(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
        if is_path(request, "/query"):
            return query_refused(request, forward)
        return lookup_ignores_filters(request, forward)

    report, _ = diagnose(emulated, neither)
    assert report.profile.query is False
    assert report.profile.lookup_form is None
    assert "holds rows for finance" in finding(report, "query").action


def plain_text_errors(
    request: httpx.Request, forward: Callable[..., httpx.Response]
) -> httpx.Response:
    response = forward(request)
    if response.status_code >= 400:
        return httpx.Response(response.status_code, text="Record not found")
    return response


def test_a_plain_text_error_body_is_recognised(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, plain_text_errors)
    body = finding(report, "error body")
    assert body.ok
    assert body.detail == 'a missing record answers 404 with plain text "Record not found"'


def test_two_parallel_calls_refused_are_recorded() -> None:
    with demo_ninox(seed=42, dialect="legacy", faults="parallel_limit=1,latency=50ms") as ninox:
        report, _ = diagnose(ninox)
    assert report.profile.parallel_refused is True
    parallel = finding(report, "parallel calls")
    assert parallel.detail == "two calls at once answered 200 and 429"
    assert parallel.action.endswith("(required here)")
    latency = finding(report, "latency")
    assert latency.ok
    p50 = int(latency.detail.split()[1])
    assert p50 >= 50  # the fault's 50 ms per call


def test_a_slow_account_is_flagged_with_what_it_means(emulated: EmulatedNinox) -> None:
    ticks = iter(range(0, 10**6, 3))  # every reading of the clock is 3 s after the last

    client = NinoxClient(
        token=emulated.token, base_url=emulated.base_url, transport=emulated.transport
    )
    database = client.database(emulated.team_id, emulated.database_id)
    doctor = Doctor(
        database, SchemaMapping(settings.NINOX_SCHEMA), clock=lambda: float(next(ticks))
    )
    latency = finding(doctor.run(), "latency")
    assert not latency.ok
    assert latency.detail == "p50 3000 ms, p95 3000 ms over 5 calls"
    assert "decisions wait this long" in latency.action


def doctor_on(emulated: EmulatedNinox, doctor_class: type[Doctor]) -> Doctor:
    client = NinoxClient(
        token=emulated.token, base_url=emulated.base_url, transport=emulated.transport
    )
    database = client.database(emulated.team_id, emulated.database_id)
    return doctor_class(database, SchemaMapping(settings.NINOX_SCHEMA))


class LookupCrashes(Doctor):
    def _check_lookups(self) -> None:
        raise RuntimeError("an answer shaped like nothing seen before")


def test_a_check_that_breaks_on_a_surprise_is_reported_and_the_rest_still_run(
    emulated: EmulatedNinox,
) -> None:
    report = doctor_on(emulated, LookupCrashes).run()
    lookup = finding(report, "lookup")
    assert not lookup.ok
    assert "RuntimeError: an answer shaped like nothing seen before" in lookup.detail
    assert "conservative default" in lookup.action
    assert report.profile.lookup_form is None
    assert finding(report, "query").ok  # the checks after it ran
    assert finding(report, "parallel calls").ok


class ApiCrashes(Doctor):
    def _check_api(self) -> bool:
        raise TypeError("unhashable type: 'dict'")


def test_an_api_check_that_breaks_leaves_the_api_unknown(emulated: EmulatedNinox) -> None:
    report = doctor_on(emulated, ApiCrashes).run("Grants")
    assert report.profile.api == "unknown"
    assert [f.check for f in report.findings] == ["api"]
    assert report.write_test_refused == "the classic Ninox API was not confirmed"


# ---- not the classic API ------------------------------------------------------------------------


def only(reply: httpx.Response) -> Hook:
    def hook(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
        return reply

    return hook


def test_the_workspace_api_is_named_plainly_and_nothing_else_is_tried(
    emulated: EmulatedNinox,
) -> None:
    workspace = json_reply(
        {"data": [], "page_info": {"has_more": False, "limit": 100, "offset": 0}}
    )
    report, _ = diagnose(emulated, only(workspace), write_test="Grants")
    assert report.profile.api == "workspace"
    assert len(report.findings) == 1
    api = report.findings[0]
    assert not api.ok
    assert "Ninox's newer workspace API" in api.detail
    assert "set NINOX_API=workspace" in api.action
    assert report.calls == 1
    assert report.write_test_refused == "the classic Ninox API was not confirmed"


def test_no_classic_api_at_the_base_url_says_so(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, only(httpx.Response(404, text="Cannot GET /v1/teams")))
    assert report.profile.api == "unknown"
    assert "no classic Ninox API at this base URL" in report.findings[0].detail
    assert "workspace API" in report.findings[0].action


def test_a_refused_key_is_named_without_showing_it(emulated: EmulatedNinox) -> None:
    report, _ = diagnose(emulated, only(httpx.Response(401, json={"message": "bad key"})))
    assert "refused the key (401" in report.findings[0].detail
    assert emulated.token not in str(report.profile.to_json())


def test_a_key_echoed_by_the_server_never_reaches_a_finding(emulated: EmulatedNinox) -> None:
    def echo_key(request: httpx.Request, forward: Callable[..., httpx.Response]) -> httpx.Response:
        response = forward(request)
        if response.status_code >= 400:
            key = request.headers["Authorization"].removeprefix("Bearer ")
            return httpx.Response(response.status_code, text=f"not found (key {key})")
        return response

    report, _ = diagnose(emulated, echo_key)
    assert "not found (key ***)" in finding(report, "error body").detail
    assert emulated.token not in str(report.profile.to_json())


def test_the_base_url_is_shown_without_user_info_or_query() -> None:
    assert (
        safe_base_url("https://user:secret@api.ninox.com/v1/?key=abc") == "https://api.ninox.com/v1"
    )
