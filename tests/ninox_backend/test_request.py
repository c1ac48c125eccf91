"""The one request path: auth, retries only where safe, Retry-After, budget, errors, call hook."""

from __future__ import annotations

import datetime as dt
import email.utils
import pickle
from decimal import Decimal

import httpx
import pytest
from ninox_fakes import BASE, DB, TOKEN, FakeNinox, record, reply

from ninox_backend import (
    CallInfo,
    NinoxAuthError,
    NinoxError,
    NinoxNotFound,
    NinoxQuotaExceeded,
    NinoxRateLimited,
    NinoxServerError,
    NinoxUnavailable,
    NinoxValidationError,
    RetryPolicy,
)

RECORDS = DB + "/tables/B/records"


def test_every_call_carries_the_bearer_token_and_asks_for_json() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(200, [{"id": "t1", "name": "Team"}]))
    fake.client().teams()
    (request,) = fake.requests
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/json"
    assert str(request.url) == f"{BASE}/teams"


def test_json_bodies_are_sent_with_exact_decimals() -> None:
    fake = FakeNinox().add("POST", RECORDS, reply(200, [record(1, Amount=Decimal("0.10"))]))
    fake.client().database("t1", "db1").table("Grants").create({"Amount": Decimal("0.10")})
    request = fake.calls("POST", RECORDS)[0]
    assert request.headers["Content-Type"] == "application/json"
    assert request.content == b'[{"fields":{"Amount":0.10}}]'


def test_a_get_is_retried_after_a_503_and_then_succeeds() -> None:
    fake = FakeNinox().add(
        "GET", "/teams", reply(503, {"message": "busy"}), reply(200, [{"id": "t1", "name": "T"}])
    )
    assert [t.id for t in fake.client().teams()] == ["t1"]
    assert len(fake.requests) == 2
    assert len(fake.sleeps) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_calls_retry_the_transient_statuses(status: int) -> None:
    fake = FakeNinox().add("GET", "/teams", reply(status, {"message": "x"}), reply(200, []))
    assert fake.client().teams() == []
    assert len(fake.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 500, 501])
def test_other_errors_are_not_retried(status: int) -> None:
    fake = FakeNinox().add("GET", "/teams", reply(status, {"message": "no"}), reply(200, []))
    with pytest.raises(NinoxError):
        fake.client().teams()
    assert len(fake.requests) == 1


def test_retries_stop_at_the_limit() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(503, {"message": "down"}))
    with pytest.raises(NinoxServerError) as caught:
        fake.client(retry=RetryPolicy(max_retries=2, total_budget=600)).teams()
    assert len(fake.requests) == 3  # the first attempt and two retries
    assert caught.value.status == 503
    assert len(fake.sleeps) == 2


def test_backoff_is_exponential_with_full_jitter() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(503))
    policy = RetryPolicy(max_retries=4, backoff_base=1.0, backoff_max=100, total_budget=10_000)
    with pytest.raises(NinoxServerError):
        fake.client(retry=policy).teams()
    caps = [1.0, 2.0, 4.0, 8.0]
    assert len(fake.sleeps) == 4
    assert all(0 <= wait <= cap for wait, cap in zip(fake.sleeps, caps, strict=True))


def test_the_total_budget_caps_all_retries() -> None:
    now = [0.0]
    fake = FakeNinox().add("GET", "/teams", reply(503))
    client = fake.client(
        retry=RetryPolicy(max_retries=10, backoff_base=4.0, backoff_max=4.0, total_budget=5.0),
        clock=lambda: now[0],
    )
    fake.sleeps = []
    client._requester.sleep = lambda s: (fake.sleeps.append(s), now.__setitem__(0, now[0] + s))
    with pytest.raises(NinoxServerError):
        client.teams()
    assert sum(fake.sleeps) <= 5.0
    assert len(fake.requests) < 11


def test_create_is_never_retried() -> None:
    fake = FakeNinox().add("POST", RECORDS, reply(503), reply(200, [record(1)]))
    with pytest.raises(NinoxServerError):
        fake.client().database("t1", "db1").table("Grants").create({"Amount": 5})
    assert len(fake.calls("POST", RECORDS)) == 1


def test_save_many_is_never_retried_even_after_a_connection_error() -> None:
    fake = FakeNinox().add("POST", RECORDS, httpx.ConnectError("refused"), reply(200, []))
    with pytest.raises(NinoxUnavailable):
        fake.client().database("t1", "db1").table("Grants").save_many([{"fields": {}}])
    assert len(fake.calls("POST", RECORDS)) == 1


def test_exec_is_never_retried() -> None:
    fake = FakeNinox().add("POST", DB + "/exec", reply(502), reply(200, 1))
    with pytest.raises(NinoxServerError):
        fake.client().database("t1", "db1").exec("1")
    assert len(fake.requests) == 1


def test_upload_is_never_retried() -> None:
    path = RECORDS + "/3/files"
    fake = FakeNinox().add("POST", path, httpx.ReadTimeout("slow"), reply(200, {"name": "a"}))
    with pytest.raises(NinoxUnavailable):
        fake.client().database("t1", "db1").table("Grants").upload(3, "a.pdf", b"%PDF")
    assert len(fake.calls("POST", path)) == 1


def test_query_is_retried_because_it_cannot_write() -> None:
    fake = FakeNinox().add("POST", DB + "/query", reply(503), reply(200, 42))
    assert fake.client().database("t1", "db1").query("42") == 42
    assert len(fake.requests) == 2


def test_update_and_delete_are_retried() -> None:
    fake = FakeNinox()
    fake.add("PUT", RECORDS + "/4", reply(502), reply(200, record(4, Amount=1)))
    fake.add("DELETE", RECORDS + "/4", httpx.ConnectError("reset"), reply(200))
    table = fake.client().database("t1", "db1").table("Grants")
    assert table.update(4, {"Amount": 1}).id == 4
    table.delete(4)
    assert len(fake.calls("PUT")) == 2
    assert len(fake.calls("DELETE")) == 2


def test_connection_errors_and_timeouts_become_ninox_unavailable() -> None:
    fake = FakeNinox().add("GET", "/teams", httpx.ConnectTimeout("slow"))
    with pytest.raises(NinoxUnavailable) as caught:
        fake.client(retry=RetryPolicy(max_retries=1)).teams()
    assert caught.value.permanent is False
    assert caught.value.status is None
    assert len(fake.requests) == 2


def test_retry_after_in_seconds_is_obeyed() -> None:
    fake = FakeNinox().add(
        "GET",
        "/teams",
        reply(429, {"message": "slow down"}, **{"Retry-After": "7"}),
        reply(200, []),
    )
    fake.client().teams()
    assert fake.sleeps == [7.0]


def test_retry_after_as_an_http_date_is_obeyed() -> None:
    now = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=12), usegmt=True)
    fake = FakeNinox().add(
        "GET", "/teams", reply(429, text="wait", **{"Retry-After": later}), reply(200, [])
    )
    fake.client(now=lambda: now).teams()
    assert fake.sleeps == [12.0]


def test_a_retry_after_beyond_the_budget_raises_at_once_with_the_wait() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(429, {"message": "x"}, **{"Retry-After": "900"}))
    with pytest.raises(NinoxRateLimited) as caught:
        fake.client(retry=RetryPolicy(total_budget=60)).teams()
    assert caught.value.retry_after == 900
    assert fake.sleeps == []


@pytest.mark.parametrize(
    ("status", "error_class", "permanent"),
    [
        (400, NinoxValidationError, True),
        (401, NinoxAuthError, True),
        (403, NinoxAuthError, True),
        (404, NinoxNotFound, True),
        (422, NinoxValidationError, True),
        (429, NinoxRateLimited, False),
        (500, NinoxServerError, False),
        (501, NinoxServerError, True),
        (502, NinoxServerError, False),
        (402, NinoxQuotaExceeded, True),
        (409, NinoxError, True),
    ],
)
def test_statuses_map_to_the_exception_tree(
    status: int, error_class: type[NinoxError], permanent: bool
) -> None:
    fake = FakeNinox().add("GET", "/teams/t9", reply(status, {"message": "the reason"}))
    with pytest.raises(error_class) as caught:
        fake.client(retry=RetryPolicy(max_retries=0)).team("t9")
    error = caught.value
    assert type(error) is error_class
    assert (error.status, error.method, error.path) == (status, "GET", "/teams/t9")
    assert error.message == "the reason"
    assert error.permanent is permanent
    assert str(error) == f"GET /teams/t9: {status} the reason"


def test_a_429_that_names_the_quota_is_a_quota_error_and_not_retried() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(429, {"message": "Monthly quota exceeded"}))
    with pytest.raises(NinoxQuotaExceeded):
        fake.client().teams()
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    ("error_reply", "message"),
    [
        (reply(400, {"message": "bad field"}), "bad field"),
        (reply(400, {"error": {"message": "nested reason", "code": 7}}), "nested reason"),
        (reply(400, {"error": "flat reason"}), "flat reason"),
        (reply(400, text="plain text reason"), "plain text reason"),
        (reply(400, text="<html>oops</html>"), "<html>oops</html>"),
        (reply(400), "Bad Request"),
    ],
)
def test_the_servers_message_is_read_from_any_error_body_shape(
    error_reply: httpx.Response, message: str
) -> None:
    fake = FakeNinox().add("GET", "/teams", error_reply)
    with pytest.raises(NinoxValidationError) as caught:
        fake.client().teams()
    assert caught.value.message == message


def test_not_found_is_also_a_key_error_with_a_readable_message() -> None:
    fake = FakeNinox().add("GET", RECORDS + "/99", reply(404, {"message": "no record 99"}))
    table = fake.client().database("t1", "db1").table("Grants")
    with pytest.raises(KeyError) as caught:
        table.get(99)
    error = caught.value
    assert isinstance(error, NinoxNotFound)
    assert str(error) == "GET /teams/t1/databases/db1/tables/B/records/99: 404 no record 99"
    assert "NinoxNotFound(status=404" in repr(error)


def test_errors_survive_pickling_for_task_queues() -> None:
    error = NinoxNotFound("gone", status=404, method="GET", path="/teams/x")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 (our own bytes)
    assert (copy.status, copy.path, copy.message, str(copy)) == (
        404,
        "/teams/x",
        "gone",
        str(error),
    )


def test_the_call_hook_records_template_status_attempts_and_bytes() -> None:
    seen: list[CallInfo] = []
    fake = FakeNinox().add(
        "GET", RECORDS + "/5", reply(503), reply(200, record(5, Amount=Decimal(3)))
    )
    fake.client(on_call=seen.append).database("t1", "db1").table("Grants").get(5)
    schema_call, get_call = seen
    assert schema_call.path_template == "/teams/{team}/databases/{db}"
    assert get_call.method == "GET"
    assert get_call.path_template == "/teams/{team}/databases/{db}/tables/{table}/records/{record}"
    assert get_call.path == "/teams/t1/databases/db1/tables/B/records/5"
    assert (get_call.status, get_call.attempts, get_call.error) == (200, 2, None)
    assert get_call.bytes_received > 50
    assert get_call.duration >= 0


def test_the_call_hook_sees_failures_too() -> None:
    seen: list[CallInfo] = []
    fake = FakeNinox().add("GET", "/teams", reply(401, {"message": "bad key"}))
    with pytest.raises(NinoxAuthError):
        fake.client(on_call=seen.append).teams()
    assert [(c.status, c.error, c.attempts) for c in seen] == [(401, "NinoxAuthError", 1)]


def test_a_failing_call_hook_does_not_break_the_call() -> None:
    def broken(info: CallInfo) -> None:
        raise RuntimeError("hook bug")

    fake = FakeNinox().add("GET", "/teams", reply(200, []))
    assert fake.client(on_call=broken).teams() == []


def test_counting_counts_every_http_request_including_retries() -> None:
    fake = FakeNinox().add("GET", "/teams", reply(503), reply(200, []))
    client = fake.client()
    with client.counting() as counter:
        client.teams()
    assert counter.calls == 2


def test_path_ids_are_url_quoted() -> None:
    fake = FakeNinox().add_pattern("GET", r"/teams/.*", reply(200, {"id": "a b", "name": "x"}))
    fake.client().team("a b/c")
    assert fake.requests[0].url.raw_path == b"/v1/teams/a%20b%2Fc"
