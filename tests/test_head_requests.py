"""HEAD answers wherever GET does (issue 16, finding 5), with the same status.

Every URL pattern of the authorization table, for every kind of visitor.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from tests.authorization_table import EXPECTED, VISITORS
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# Views in files another change owns: their GET views still take GET only. The pay page
# may answer HEAD once opening it no longer starts a checkout (issue 16, POST-only checkout).


def _params() -> list[Any]:
    return [pytest.param(name) for name in sorted(EXPECTED)]


@pytest.mark.parametrize("name", _params())
def test_head_gets_the_same_status_as_get(name: str, cast: dict[str, Any]) -> None:
    url = reverse(name, kwargs=EXPECTED[name][1] or None)
    for visitor in VISITORS:
        get = client_for(cast[visitor]).get(url)
        head = client_for(cast[visitor]).head(url)
        assert (visitor, head.status_code) == (visitor, get.status_code)
