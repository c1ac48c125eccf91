"""Applications arriving together: one shared refresh, the same decisions as one at a time.

Ninox is held at the transport (the emulator has answered, the reply waits) until every
application has arrived, so the calls counted do not depend on how fast the machine is.
The assertions are calls, outcomes and approvals, never timings. PostgreSQL only: the
threads decide at the same time under real row locks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from django.db import connection

from grants.models import Application, Lodge, Status
from grants.rules import current_fiscal_year
from grants.selectors.budgets import lodge_budget
from grants.services.mirror_refresh import NINOX_UNREACHABLE
from grants.services.refresh_flight import RefreshFlight, Ticket
from grants.services.submit import application_submit
from ninox_backend.ninox.connection import build_client, use_client
from tests.grants.conftest import as_cleaned, valid_body
from tests.threads import run_together

pytestmark = [pytest.mark.db_engine, pytest.mark.django_db(transaction=True)]

WAIT = 60  # seconds; only a broken test waits this long


@pytest.fixture(autouse=True)
def postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("runs in CI's PostgreSQL pass (DATABASE_URL=postgres://…)")


class HeldNinox(httpx.BaseTransport):
    """The emulator, whose replies wait until ``release`` is set (the request has been served)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.holding = threading.Event()
        # When set, every reply after the first also waits for this event.
        self.later: threading.Event | None = None
        self.served = 0
        self.count_lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        with self.count_lock:
            nth = self.served
            self.served += 1
        self.holding.set()
        assert self.release.wait(WAIT), "the test never let Ninox answer"
        if nth and self.later is not None:
            assert self.later.wait(WAIT), "the test never let the later replies through"
        return response


class Arrivals:
    """Counts applications arriving at the shared refresh; ``reached(n)`` waits for n of them."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def arrived(self) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def reached(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.count >= count, timeout=WAIT)


@pytest.fixture
def held(mirrored: Any) -> Iterator[HeldNinox]:
    transport = HeldNinox(mirrored.transport)
    client = build_client(transport=transport, base_url=mirrored.base_url, token=mirrored.token)
    with use_client(client):
        yield transport
    client.close()


@pytest.fixture
def arrivals(monkeypatch: pytest.MonkeyPatch) -> Arrivals:
    counter = Arrivals()
    arrive = RefreshFlight.arrive

    def counted(self: RefreshFlight) -> Ticket:
        ticket = arrive(self)
        counter.arrived()
        return ticket

    monkeypatch.setattr(RefreshFlight, "arrive", counted)
    return counter


def release_when(held: HeldNinox, arrivals: Arrivals, count: int) -> threading.Thread:
    """Let Ninox answer once ``count`` applications have arrived."""

    def wait_then_release() -> None:
        arrivals.reached(count)
        held.release.set()

    thread = threading.Thread(target=wait_then_release)
    thread.start()
    return thread


def lodges_with_room(count: int, amount: Decimal) -> list[Lodge]:
    fy = current_fiscal_year().key
    room = [
        lodge
        for lodge in Lodge.objects.filter(active=True).order_by("number")
        if lodge_budget(lodge.id, fy, Decimal("4000.00")).remaining >= amount
    ]
    assert len(room) >= count, f"the demo has {len(room)} lodges with room, not {count}"
    return room[:count]


def submit_all(numbers: list[int], amount: str) -> list[Any]:
    def submit(i: int) -> Application:
        return application_submit(
            cleaned=as_cleaned(
                valid_body(numbers[i], amount_raised=amount, amount_requested=amount)
            ),
            source="api",
        )

    return run_together(len(numbers), submit)


def statuses(results: list[Any]) -> list[str]:
    assert all(isinstance(r, Application) for r in results), results
    return [str(r.status) for r in results]


def test_fifty_lodges_applying_at_once_cost_at_most_five_ninox_calls_and_all_are_approved(
    mirrored: Any, held: HeldNinox, arrivals: Arrivals
) -> None:
    lodges = lodges_with_room(50, Decimal("25.00"))
    releaser = release_when(held, arrivals, 50)
    before = mirrored.emulator.calls
    results = submit_all([lodge.number for lodge in lodges], "25.00")
    releaser.join(WAIT)
    assert mirrored.emulator.calls - before <= 5
    assert statuses(results) == ["approved"] * 50
    assert not any(NINOX_UNREACHABLE in (r.review_reason or "") for r in results)
    assert Application.objects.filter(status=Status.NEEDS_REVIEW).count() == 0


def test_without_coalescing_the_same_burst_costs_a_call_per_application(
    mirrored: Any, settings: Any
) -> None:
    settings.NINOX_COALESCE_REFRESH = False
    lodges = lodges_with_room(50, Decimal("25.00"))
    before = mirrored.emulator.calls
    results = submit_all([lodge.number for lodge in lodges], "25.00")
    assert mirrored.emulator.calls - before == 50
    assert statuses(results) == ["approved"] * 50


def test_twenty_applications_from_one_lodge_at_once_approve_exactly_what_the_cap_allows(
    mirrored: Any, held: HeldNinox, arrivals: Arrivals, fresh_lodge: Lodge
) -> None:
    releaser = release_when(held, arrivals, 20)
    before = mirrored.emulator.calls
    results = submit_all([fresh_lodge.number] * 20, "500.00")
    releaser.join(WAIT)
    assert mirrored.emulator.calls - before <= 5
    outcomes = statuses(results)
    assert (outcomes.count("approved"), outcomes.count("rejected")) == (8, 12)
    approved = Application.objects.filter(lodge=fresh_lodge, status=Status.APPROVED)
    assert sum((a.amount_requested for a in approved), Decimal("0")) == Decimal("4000.00")


def in_thread(work: Callable[[], Application]) -> tuple[threading.Thread, list[Any]]:
    box: list[Any] = []

    def target() -> None:
        from django.db import connections

        try:
            box.append(work())
        except Exception as exc:  # the test reads it
            box.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def test_an_application_arriving_during_a_refresh_waits_for_the_next_one(
    mirrored: Any, held: HeldNinox, arrivals: Arrivals, fresh_lodge: Lodge
) -> None:
    before = mirrored.emulator.calls
    # The second refresh's reply waits until the first application is decided: otherwise
    # the second refresh may land in the mirror first, and the first decision would
    # (rightly) see the grant too. The order under test is the one where it does not.
    held.later = threading.Event()
    first, first_box = in_thread(
        lambda: application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="api")
    )
    assert held.holding.wait(WAIT)  # the first refresh has read Ninox; its reply waits
    # Meanwhile a grant entered by hand in Ninox uses up the lodge's year.
    mirrored.emulator.insert(
        mirrored.team_id,
        mirrored.database_id,
        "Grants",
        [
            {
                "Lodge": fresh_lodge.ninox_id,
                "Amount": Decimal("4000.00"),
                "Grant Date": current_fiscal_year().start.isoformat(),
                "Status": "Paid",
            }
        ],
    )
    second, second_box = in_thread(
        lambda: application_submit(cleaned=as_cleaned(valid_body(fresh_lodge.number)), source="api")
    )
    assert arrivals.reached(2)
    held.release.set()
    first.join(WAIT)
    held.later.set()
    second.join(WAIT)
    [first_application], [second_application] = first_box, second_box
    assert first_application.status == Status.APPROVED  # its refresh predates the grant
    # Had it reused the first refresh, it would not know of the grant and be approved.
    assert second_application.status == Status.REJECTED
    assert mirrored.emulator.calls - before == 2
