"""Random and hostile bodies at the apply form and the API: no 5xx, no row from bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grants.forms import FIELDS
from grants.models import Application, Lodge
from grants.services.api_tokens import api_token_create
from tests.grants.conftest import valid_body

pytestmark = pytest.mark.django_db

NASTY_TEXT = st.sampled_from(
    [
        "", " ", "0", "-0", "-1", "1e3", "NaN", "Infinity", "1,25.00", "$", "\u0661\u0662\u0663", "\uff11\uff12\uff13", "12\u200b3",
        "' OR 1=1 --", '"; delete Grants; "', "select Grants", "\x00", "\r\nBcc: x@y", "a" * 5000,
        "<script>alert(1)</script>", "9" * 40, "2026-02-30", "1.005", " 500 ", "5_00", "0x1F4",
    ]
)  # fmt: skip
VALUES = st.one_of(
    NASTY_TEXT,
    st.text(max_size=300),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def body_strategy(lodge_number: int) -> st.SearchStrategy[dict[str, Any]]:
    base = valid_body(lodge_number)
    return st.fixed_dictionaries(
        {},
        optional={name: st.one_of(st.just(base[name]), VALUES) for name in FIELDS}
        | {"extra_field": VALUES},
    )


HYPOTHESIS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@HYPOTHESIS
@given(data=st.data())
def test_the_api_never_fails_and_stores_nothing_from_invalid_input(
    data: Any, fresh_lodge: Lodge
) -> None:
    token = api_token_create(name="fuzz")[1]
    body = data.draw(body_strategy(fresh_lodge.number))
    before = Application.objects.count()
    response = Client().post(
        "/api/v1/applications",
        data=json.dumps(body, allow_nan=True),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in {201, 400}, response.content
    reply = response.json()
    if response.status_code == 400:
        assert reply["message"]
        assert Application.objects.count() == before
    else:
        assert Application.objects.count() == before + 1


@HYPOTHESIS
@given(data=st.data())
def test_the_form_never_fails_and_stores_nothing_from_invalid_input(
    data: Any, fresh_lodge: Lodge
) -> None:
    from django.core.cache import cache

    cache.clear()  # the per-address limit is not under test here
    body = {
        k: ("" if v is None else str(v))
        for k, v in data.draw(body_strategy(fresh_lodge.number)).items()
    }
    forged = data.draw(st.booleans())
    before = Application.objects.count()
    headers = {"HX-Request": "true", "HX-Target": "results"} if forged else {}
    response = Client().post("/apply/", body, headers=headers)
    assert response.status_code in {302, 400, 422}, response.status_code
    if response.status_code == 302:
        assert Application.objects.count() == before + 1
    else:
        assert Application.objects.count() == before
        assert "Please correct" in response.content.decode()
