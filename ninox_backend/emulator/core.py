"""The :class:`Emulator`: a Ninox API on SQLite, in-process or as a server."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from .app import App
from .dialects import check_dialect, resolve_dialect
from .faults import Faults
from .nxrun import run_nx
from .server import BackgroundServer, make_server
from .store import Store, _now
from .transport import EmulatorTransport

if TYPE_CHECKING:
    from .demo import DemoInfo


class Emulator:
    """A Ninox REST API (classic v1) emulator.

    ``dialect`` is ``"docs"`` (what Ninox's documents show) or ``"legacy"`` (the
    emulator's earlier guesses); None takes the in-process default
    (:data:`~.dialects.DEFAULT_TEST_DIALECT`, or ``NINOX_EMULATOR_DIALECT``).
    ``emu.dialect = "docs"`` switches it at any time.

    >>> emu = Emulator(token="dev-token")
    >>> team = emu.add_team("demo", name="Demo Foundation")
    >>> db = emu.add_database(team, "grants", name="Lodge Grants")
    >>> emu.add_table(team, db, "Lodges", fields=[{"name": "Number", "type": "number"}])
    'A'
    >>> emu.insert(team, db, "Lodges", [{"Number": 1}])
    [1]
    >>> client = httpx.Client(transport=emu.transport(), base_url="http://emulator/v1",
    ...                       headers={"Authorization": "Bearer dev-token"})
    >>> client.get("/teams").json()
    [{'id': 'demo', 'name': 'Demo Foundation'}]
    """

    def __init__(  # nosec B107
        self,
        path: str = ":memory:",
        token: str | None = "dev-token",  # noqa: S107 (the documented dev key)
        tokens: Iterable[str] = (),
        faults: str | None = None,
        clock: Callable[[], datetime] = _now,
        user: str = "u1",
        dialect: str | None = None,
    ) -> None:
        self.store = Store(path, clock=clock, user=user)
        accepted = [*tokens, *([token] if token else [])]
        self._faults = Faults(faults, clock=clock)
        self.app = App(self.store, accepted, self._faults, resolve_dialect(dialect))
        self._background: BackgroundServer | None = None

    @property
    def dialect(self) -> str:
        """``"docs"`` or ``"legacy"``; assign either to switch."""
        return self.app.dialect

    @dialect.setter
    def dialect(self, name: str) -> None:
        self.app.dialect = check_dialect(name)

    @property
    def faults(self) -> Faults:
        """Fault injection: ``emu.faults.configure("503=0.2")``, ``.clear()``, ``.injected``.

        Assigning a spec string configures it (``emu.faults = "502=1"``); ``None`` clears.
        """
        return self._faults

    @faults.setter
    def faults(self, spec: str | Faults | None) -> None:
        if isinstance(spec, Faults):
            self._faults.configure(**{})
            self._faults.settings = dict(spec.settings)
        elif spec:
            self._faults.configure(spec)
        else:
            self._faults.clear()

    # -- building state --------------------------------------------------------
    def add_team(self, team_id: str, name: str | None = None) -> str:
        return self.store.add_team(team_id, name or team_id)

    def add_database(self, team_id: str, db_id: str, name: str | None = None) -> str:
        return self.store.add_database(team_id, db_id, name or db_id)

    def add_table(
        self,
        team_id: str,
        db_id: str,
        name: str,
        fields: Iterable[Mapping[str, Any]],
        table_id: str | None = None,
    ) -> str:
        """Create a table; returns its id (``A``, ``B``, …). Field ids follow the order."""
        db = self.store.database(team_id, db_id)
        return self.store.add_table(db, name, fields, table_id).id

    def insert(
        self, team_id: str, db_id: str, table: str, records: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Create records (fields by name or id, validated like the API); returns ids."""
        db = self.store.database(team_id, db_id)
        tbl = self.store.table(db, table)
        return [row.id for row in self.store.save(db, tbl, [(None, r) for r in records])]

    def query(self, team_id: str, db_id: str, nx: str, write: bool = False) -> Any:
        """Run NX as the ``query`` (or, with ``write``, ``exec``) endpoint would."""
        return run_nx(self.store, self.store.database(team_id, db_id), nx, write)

    def seed_demo(
        self, seed: int = 42, lodges: int = 120, grants: int = 1500, today: date | None = None
    ) -> DemoInfo:
        """Load the deterministic demo (team ``demo``, database ``grants``)."""
        from .demo import seed_demo

        return seed_demo(self, seed=seed, lodges=lodges, grants=grants, today=today)

    # -- serving ---------------------------------------------------------------
    @property
    def wsgi_app(self) -> App:
        return self.app

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport serving the API in-process (base URL ``http://…/v1``)."""
        return EmulatorTransport(self.app)

    @property
    def calls(self) -> int:
        """API calls served since the start or the last reset (``emu.calls = 0``)."""
        return self.app.calls

    @calls.setter
    def calls(self, value: int) -> None:
        self.app.calls = value

    def serve(self, host: str = "127.0.0.1", port: int = 8765) -> None:
        """Serve until interrupted (blocking)."""
        server = make_server(self.app, host, port)
        try:
            server.serve_forever()
        finally:
            server.server_close()

    def start_background(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve from a daemon thread; returns the base URL (``http://host:port/v1``)."""
        if self._background is None:
            self._background = BackgroundServer(self.app, host, port)
        return self._background.base_url

    def stop(self) -> None:
        """Stop a background server, if one runs."""
        if self._background is not None:
            self._background.stop()
            self._background = None

    def close(self) -> None:
        self.stop()
        self.store.close()
