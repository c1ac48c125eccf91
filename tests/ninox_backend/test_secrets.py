"""The API key never reaches a log line, an exception's text, or a repr (canary tests)."""

from __future__ import annotations

import logging
import traceback

import httpx
import pytest
from ninox_fakes import TOKEN, FakeNinox, reply

from ninox_backend import NinoxError, RetryPolicy


def test_the_token_is_masked_in_the_clients_repr() -> None:
    client = FakeNinox().client()
    assert TOKEN not in repr(client)
    assert "token='***'" in repr(client)
    assert TOKEN not in repr(client._requester)
    assert TOKEN not in repr(client.database("t1", "db1").table("Grants"))


@pytest.mark.parametrize(
    "failure",
    [
        reply(401, {"message": f"key {TOKEN} is not valid"}),
        reply(500, text=f"Authorization: Bearer {TOKEN}"),
        reply(503, {"error": {"message": f"echo {TOKEN}"}}),
        httpx.ConnectError(f"failed for {TOKEN}"),
    ],
)
def test_no_token_in_logs_or_exception_text_even_when_the_server_echoes_it(
    failure: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = FakeNinox().add("GET", "/teams", failure)  # type: ignore[arg-type]
    with pytest.raises(NinoxError) as caught:
        fake.client(retry=RetryPolicy(max_retries=2)).teams()
    error = caught.value
    texts = [
        str(error),
        repr(error),
        error.message,
        "".join(traceback.format_exception(error)),
        caplog.text,
        *(r.getMessage() for r in caplog.records),
    ]
    assert caplog.records, "the failure should have been logged"
    for text in texts:
        assert TOKEN not in text


def test_successful_calls_log_without_the_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="ninox_backend")
    fake = FakeNinox().add("GET", "/teams", reply(200, []))
    fake.client().teams()
    assert "GET /teams" in caplog.text
    assert TOKEN not in caplog.text


def test_the_limiter_key_is_a_hash_not_the_token() -> None:
    client = FakeNinox().client()
    key = client._requester.limiter_key
    assert TOKEN not in key
    assert len(key) == 24
