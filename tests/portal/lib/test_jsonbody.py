"""The one JSON reader for request bodies: whatever it refuses, it refuses with a message."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from portal.lib.jsonbody import MAX_DEPTH, JsonBodyError, json_depth, json_loads, read_json_body


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_it_reads_plain_json() -> None:
    assert json_loads(b'{"a": [1, {"b": 2.5}]}') == {"a": [1, {"b": 2.5}]}
    assert json_loads('{"a": 2.5}', parse_float=str) == {"a": "2.5"}


def test_it_refuses_a_body_nested_ten_thousand_deep_with_a_message() -> None:
    with pytest.raises(JsonBodyError, match="more than 32 levels deep"):
        json_loads(nested(10_000))


def test_it_refuses_a_body_deeper_than_the_limit_that_python_could_still_parse() -> None:
    assert json_depth(json_loads(nested(MAX_DEPTH))) == MAX_DEPTH
    with pytest.raises(JsonBodyError, match="levels deep"):
        json_loads(nested(MAX_DEPTH + 1))
    with pytest.raises(JsonBodyError, match="levels deep"):
        json_loads('{"a": ' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"not json", "not valid JSON"),
        (b'{"a": NaN}', "NaN is not allowed"),
        (b'{"a": -Infinity}', "-Infinity is not allowed"),
        (b"\xff", "not UTF-8"),
        (b"", "not valid JSON"),
    ],
)
def test_it_refuses_what_is_not_json_with_a_message(raw: bytes, message: str) -> None:
    with pytest.raises(JsonBodyError, match=message):
        json_loads(raw)


def test_it_refuses_a_body_over_the_size_limit() -> None:
    request = RequestFactory().post(
        "/", data=b"[" + b"1," * 100 + b"1]", content_type="application/json"
    )
    with pytest.raises(JsonBodyError, match="larger than 100 bytes"):
        read_json_body(request, max_bytes=100)
    assert len(read_json_body(request, max_bytes=1000)) == 101


def test_it_reads_nan_only_when_asked_to() -> None:
    value = json_loads(b'{"a": NaN}', allow_constants=True)
    assert value["a"] != value["a"]  # NaN


@pytest.mark.parametrize("body", ['{"id": "evt_\\ud800"}', '{"\\udfff": 1}', '["ok", ["\\ud83d"]]'])
def test_a_lone_surrogate_escape_is_refused_with_a_message(body: str) -> None:
    with pytest.raises(JsonBodyError, match="not valid Unicode"):
        json_loads(body)


def test_a_surrogate_pair_escape_is_ordinary_text() -> None:
    assert json_loads('{"name": "\\ud83d\\ude00"}') == {"name": "\U0001f600"}
