"""Issue 7's scale check: at 1,000 lodges and 20,000 Ninox grants every staff page makes a
fixed number of queries, the same with more rows, and none calls Ninox while rendering."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Application, Lodge
from grants.rules import current_fiscal_year
from ninox_backend.emulator import Emulator
from ninox_backend.ninox.connection import build_client, use_client
from ninox_backend.ninox.mirror import sync_mirror
from tests.conftest import client_for
from tests.factories import ApplicationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PAGES = [
    "/",
    "/queue/",
    "/queue/?status=needs_review&q=Charity",
    "/lodges/",
    "/lodges/?q=No.&fy={fy}",
]


@pytest.fixture
def large_ninox(settings: Any) -> Iterator[Emulator]:
    emulator = Emulator(token="scale-token")
    emulator.seed_demo(seed=9, lodges=1000, grants=20000)
    settings.NINOX_TEAM_ID, settings.NINOX_DATABASE_ID = "demo", "grants"
    client = build_client(
        transport=emulator.transport(), base_url="http://ninox.test/v1", token="scale-token"
    )
    with use_client(client):
        sync_mirror(full=True)
        yield emulator
    client.close()


def add_applications(count: int, start: int) -> None:
    lodges = list(Lodge.objects.order_by("id")[:count])
    states = [{"needs_review": True}, {"approved": True}, {"rejected": True}]
    Application.objects.bulk_create(
        ApplicationFactory.build(
            reference=f"MG-2098-{start + i:05d}",
            lodge=lodge,
            charity_name=f"Charity {i}",
            purpose="Scale test",
            amount_raised=Decimal("10.00"),
            amount_requested=Decimal("10.00"),
            **states[i % 3],
        )
        for i, lodge in enumerate(lodges)
    )


def queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured.captured_queries)


def test_staff_pages_make_a_fixed_number_of_queries_at_1000_lodges_and_20000_grants(
    large_ninox: Emulator, reviewer: Any
) -> None:
    assert Lodge.objects.count() == 1000
    client = client_for(reviewer)
    pages = [page.format(fy=current_fiscal_year().key) for page in PAGES]
    add_applications(60, 0)
    for page in pages:
        client.get(page)  # warm per-process caches (content types, rules)
    few = {page: queries(client, page) for page in pages}
    add_applications(600, 100)
    calls = large_ninox.calls
    many = {page: queries(client, page) for page in pages}
    assert many == few
    assert large_ninox.calls == calls  # no page called Ninox
