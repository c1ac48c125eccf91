"""Fixtures for the emulator's tests: a small grants database behind httpx, no sockets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from ninox_backend.emulator import Emulator

TOKEN = "test-token"
DB_PATH = "/teams/t1/databases/db1"


class Clock:
    """A settable clock, so timestamps and ordering by modification are predictable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 7, 18, 11, 19, 58, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: int = 1) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dialect() -> str:
    """The dialect of ``emu``: these tests pin ``legacy``; a module overrides it."""
    return "legacy"


@pytest.fixture
def emu(clock: Clock, dialect: str) -> Iterator[Emulator]:
    emulator = Emulator(token=TOKEN, clock=clock, dialect=dialect)
    emulator.add_team("t1", name="Team One")
    emulator.add_database("t1", "db1", name="Grants DB")
    emulator.add_table(
        "t1",
        "db1",
        "Lodges",
        fields=[
            {"name": "Number", "type": "number"},
            {"name": "Name", "type": "text"},
            {"name": "Active", "type": "boolean"},
        ],
    )
    emulator.add_table(
        "t1",
        "db1",
        "Grants",
        fields=[
            {"name": "Lodge", "type": "reference", "table": "Lodges"},
            {"name": "Amount", "type": "number"},
            {"name": "Grant Date", "type": "date"},
            {"name": "Status", "type": "choice", "options": ["Approved", "Paid", "Cancelled"]},
            {"name": "Note", "type": "text"},
            {"name": "Scan", "type": "file"},
        ],
    )
    yield emulator
    emulator.close()


@pytest.fixture
def api(emu: Emulator) -> Iterator[httpx.Client]:
    """An httpx client on the in-process transport, rooted at the test database."""
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator/v1" + DB_PATH,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
def root(emu: Emulator) -> Iterator[httpx.Client]:
    """An httpx client at the API root (``/v1``)."""
    with httpx.Client(
        transport=emu.transport(),
        base_url="http://emulator/v1",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
def add_lodges(emu: Emulator) -> Callable[[int], list[int]]:
    """Insert lodges numbered 1..count; returns their ids."""

    def add(count: int) -> list[int]:
        rows = [{"Number": n, "Name": f"Lodge {n}"} for n in range(1, count + 1)]
        return emu.insert("t1", "db1", "Lodges", rows)

    return add
