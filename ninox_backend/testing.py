"""Test helpers: a Ninox emulator in-process, so tests need no account and no socket.

Example (pytest)::

    from ninox_backend import NinoxClient
    from ninox_backend.testing import emulated_ninox

    def test_it_reads_lodges():
        schema = {"Lodges": [{"name": "Number", "type": "number"},
                             {"name": "Name", "type": "text"}]}
        records = {"Lodges": [{"Number": 123, "Name": "Kilwinning No. 123"}]}
        with emulated_ninox(schema=schema, records=records) as ninox:
            client = NinoxClient(token=ninox.token, base_url=ninox.base_url,
                                 transport=ninox.transport)
            table = client.database(ninox.team_id, ninox.database_id).table("Lodges")
            assert table.get(1).fields["Name"] == "Kilwinning No. 123"

``demo_ninox(seed=42)`` gives the demo foundation's data (team ``demo``, database
``grants``, tables ``Lodges`` and ``Grants``). The emulator is at ``ninox.emulator``:
faults (``ninox.emulator.faults.configure("503=0.5")``), the call counter
(``ninox.emulator.calls``) and direct inserts (``ninox.emulator.insert(…)``).

Every helper takes ``dialect="docs"`` or ``dialect="legacy"`` (see
:mod:`ninox_backend.emulator.dialects`). Without one they use
:data:`DEFAULT_TEST_DIALECT`, or ``NINOX_EMULATOR_DIALECT`` from the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from .emulator import Emulator
from .emulator.dialects import DEFAULT_TEST_DIALECT, DIALECTS, default_dialect, resolve_dialect

__all__ = [
    "BASE_URL",
    "CLASSIC_VARIANTS",
    "DEFAULT_TEST_DIALECT",
    "DIALECTS",
    "EMULATOR_VARIANTS",
    "WORKSPACE_BASE_URL",
    "EmulatedNinox",
    "EmulatorVariant",
    "default_dialect",
    "demo_ninox",
    "emulated_ninox",
    "start_emulated_ninox",
]

BASE_URL = "http://ninox.test/v1"
#: the workspace API's paths begin ``/api/v1/workspace``: its base URL is the host
WORKSPACE_BASE_URL = "http://ninox.test"


@dataclass(frozen=True)
class EmulatorVariant:
    """One way a Ninox may answer: a dialect and the faults that settle guesses badly."""

    id: str
    dialect: str
    faults: str | None = None

    @property
    def api(self) -> str:
        """``"workspace"`` for the workspace dialect, else ``"classic"``."""
        return "workspace" if self.dialect == "workspace" else "classic"


#: The matrix the portal must stay right on (issue 15): both classic dialects, the
#: documents' reading with no change feed, numeric dates, or no NX query, and the
#: workspace API (issue 23; a client built with ``ninox.api_client()`` speaks it). Use as
#: ``@pytest.mark.parametrize("variant", EMULATOR_VARIANTS, ids=lambda v: v.id)``
#: and ``demo_ninox(dialect=variant.dialect, faults=variant.faults)``.
EMULATOR_VARIANTS = (
    EmulatorVariant("legacy", "legacy"),
    EmulatorVariant("docs", "docs"),
    EmulatorVariant("docs-changes_404", "docs", "changes_404"),
    EmulatorVariant("docs-dates_epoch_ms", "docs", "dates_epoch_ms"),
    EmulatorVariant("docs-query_refused", "docs", "query_refused"),
    EmulatorVariant("workspace", "workspace"),
)

#: The classic API's variants, for tests of what only the classic API has (``sinceSq``,
#: the change feed, lookup forms, NX); the workspace API's own tests cover the rest.
CLASSIC_VARIANTS = tuple(v for v in EMULATOR_VARIANTS if v.api == "classic")

Schema = Mapping[str, Sequence[Mapping[str, Any]]]
Records = Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass
class EmulatedNinox:
    """A running in-process emulator and what a client needs to reach it."""

    emulator: Emulator
    transport: httpx.BaseTransport
    base_url: str
    token: str
    team_id: str
    database_id: str
    dialect: str = DEFAULT_TEST_DIALECT

    def client(self) -> httpx.Client:
        """A plain httpx client with the key set, for tests below the Ninox client."""
        return httpx.Client(
            transport=self.transport,
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    @property
    def api(self) -> str:
        """``"workspace"`` when the emulator serves the workspace API, else ``"classic"``."""
        return "workspace" if self.dialect == "workspace" else "classic"

    def api_client(self, **kwargs: Any) -> Any:
        """A :class:`NinoxClient` (or, on the workspace dialect, a ``WorkspaceClient``)."""
        from .client import NinoxClient
        from .workspace import WorkspaceClient

        kind = WorkspaceClient if self.api == "workspace" else NinoxClient
        return kind(token=self.token, base_url=self.base_url, transport=self.transport, **kwargs)

    def close(self) -> None:
        self.emulator.close()

    def __enter__(self) -> EmulatedNinox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def start_emulated_ninox(  # nosec B107
    schema: Schema | None = None,
    records: Records | None = None,
    seed_demo: bool = False,
    token: str = "test-token",  # noqa: S107 (a fake key for tests)
    team_id: str = "team",
    database_id: str = "db",
    faults: str | None = None,
    demo_seed: int = 42,
    today: date | None = None,
    dialect: str | None = None,
) -> EmulatedNinox:
    """An in-process emulator, running until ``.close()`` or the end of a ``with`` block.

    ``schema`` maps table names to field specs (``{"name", "type", "options"?,
    "table"?, "formula"?}``, tables created in order so references can point back);
    ``records`` maps table names to lists of field values by name. With
    ``seed_demo=True`` the demo data is loaded first (team ``demo``, db ``grants``,
    deterministic from ``demo_seed``). ``faults`` is a fault spec
    (``"changes_404,query_refused"``); ``dialect`` is ``"docs"`` or ``"legacy"``
    (None: the test default).
    """
    emulator = Emulator(token=token, faults=faults, dialect=resolve_dialect(dialect))
    if seed_demo:
        info = emulator.seed_demo(seed=demo_seed, today=today)
        team_id, database_id = info.team_id, info.database_id
    else:
        emulator.add_team(team_id, name=team_id)
        emulator.add_database(team_id, database_id, name=database_id)
    for name, fields in (schema or {}).items():
        emulator.add_table(team_id, database_id, name, fields)
    for name, rows in (records or {}).items():
        emulator.insert(team_id, database_id, name, rows)
    return EmulatedNinox(
        emulator=emulator,
        transport=emulator.transport(),
        base_url=WORKSPACE_BASE_URL if emulator.dialect == "workspace" else BASE_URL,
        token=token,
        team_id=team_id,
        database_id=database_id,
        dialect=emulator.dialect,
    )


#: ``with emulated_ninox(schema=…, records=…) as ninox:``: the emulator runs for the block.
emulated_ninox = start_emulated_ninox


def demo_ninox(  # nosec B107
    seed: int = 42,
    token: str = "test-token",  # noqa: S107 (a fake key for tests)
    today: date | None = None,
    dialect: str | None = None,
    faults: str | None = None,
) -> EmulatedNinox:
    """The demo foundation's data, deterministic from ``seed`` (in a ``with`` block)."""
    return start_emulated_ninox(
        seed_demo=True,
        token=token,
        demo_seed=seed,
        today=today,
        dialect=dialect,
        faults=faults,
    )
