"""The :class:`Doctor`: every check in order, each guarded so that a surprise is reported and
the run goes on; the first two (the API, the schema) gate the rest."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ..mapping import SchemaMapping
from ..profile import CapabilityProfile, Finding
from .api import check_api
from .feed import check_change_feed
from .lookup import check_lookups
from .pages import check_pages_and_values
from .probe import Probe
from .query import check_query
from .raw import HttpFactory, raw_http_factory
from .replies import clip
from .report import DoctorReport, proposed_profile
from .since import check_since_sq
from .tables import check_schema
from .transport import check_error_body, check_latency, check_parallel
from .workspace import check_workspace, run_workspace_write_test
from .write_test import run_write_test

if TYPE_CHECKING:
    from ..database import Database

_T = TypeVar("_T")
logger = logging.getLogger("ninox_backend")


class Doctor:
    """Runs the checks against ``database`` for the tables and fields in ``mapping``.

    ``http_factory`` returns a plain ``httpx.Client`` with the base URL and the
    key set (the error-body and parallel-call checks need raw replies and two
    clients outside the limiter); by default one like the database's client.
    ``lookup`` names the application's (table, field) the write-back looks up by.
    ``on_finding`` is called with each finding as soon as it is known.
    ``previous`` is the profile stored before: a change feed that an earlier write
    test switched on stays on while today's read-only comparison still holds.
    """

    def __init__(
        self,
        database: Database,
        mapping: SchemaMapping,
        *,
        http_factory: HttpFactory | None = None,
        lookup: tuple[str, str] = ("grants", "reference"),
        on_finding: Callable[[Finding], None] | None = None,
        now: Callable[[], dt.datetime] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        latency_samples: int = 5,
        previous: CapabilityProfile | None = None,
        workspace_id: str | None = None,
    ) -> None:
        self.database = database
        self.mapping = mapping
        self.http_factory = http_factory or raw_http_factory(database.client)
        self.lookup = lookup
        self.on_finding = on_finding
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.clock = clock
        self.latency_samples = latency_samples
        self.previous = previous
        self.workspace_id = workspace_id
        self._probe = self._new_probe(write_test_planned=False)

    def _new_probe(self, *, write_test_planned: bool) -> Probe:
        return Probe(
            database=self.database,
            mapping=self.mapping,
            http_factory=self.http_factory,
            lookup=self.lookup,
            now=self.now,
            clock=self.clock,
            latency_samples=self.latency_samples,
            previous=self.previous,
            write_test_planned=write_test_planned,
            on_finding=self.on_finding,
            workspace_id=self.workspace_id,
        )

    def run(self, write_test: str | None = None, *, force: bool = False) -> DoctorReport:
        """Every check in order; ``write_test`` names a table for the scratch-record test."""
        self._probe = probe = self._new_probe(write_test_planned=write_test is not None)
        refused: str | None = None
        guard = self._guard
        with self.database.client.counting() as counter:
            if not guard("api", self._check_api, False):
                if write_test is not None:
                    configured = "workspace" if self._workspace_configured() else "classic"
                    refused = f"the {configured} Ninox API was not confirmed"
            elif probe.state.api == "workspace":
                # The classic checks (sinceSq, feed, lookup forms, NX) do not apply here.
                guard("workspace", lambda: check_workspace(probe), None)
                if write_test is not None:
                    refused = guard(
                        "write test", lambda: run_workspace_write_test(probe, write_test), None
                    )
            elif guard("schema", self._check_schema, False):
                guard("perPage", self._check_pages_and_values, None)
                guard("sinceSq", self._check_since_sq, None)
                guard("change feed", self._check_change_feed, None)
                guard("lookup", self._check_lookups, None)
                guard("query", self._check_query, None)
                guard("error body", self._check_error_body, None)
                guard("latency", self._check_latency, None)
                guard("parallel calls", self._check_parallel, None)
                if write_test is not None:
                    refused = guard(
                        "write test",
                        lambda: self._write_test(write_test, force=force),
                        None,
                    )
            elif write_test is not None:
                refused = "the schema could not be read"
        return DoctorReport(
            profile=proposed_profile(probe),
            calls=counter.calls + probe.state.raw_calls,
            write_test_refused=refused,
        )

    def _workspace_configured(self) -> bool:
        from ..workspace import WorkspaceDatabase

        return isinstance(self.database, WorkspaceDatabase)

    def _guard(self, check: str, step: Callable[[], _T], failed: _T) -> _T:
        """Run one check; a reply that breaks it is reported, never the end of the run."""
        try:
            return step()
        except Exception as exc:  # a first contact must report every surprise, not stop
            logger.warning("ninox_doctor: the %s check stopped", check, exc_info=True)
            text = f"{type(exc).__name__}: {exc}"
            self._probe.add(
                check,
                False,
                f"the check stopped on a reply it could not read ({clip(text, 120)})",
                "what it would settle stays at the conservative default; please report this",
            )
            return failed

    # ---- the checks, in the order they run (each one a module of this package) ----------

    def _check_api(self) -> bool:
        return check_api(self._probe)

    def _check_schema(self) -> bool:
        return check_schema(self._probe)

    def _check_pages_and_values(self) -> None:
        check_pages_and_values(self._probe)

    def _check_since_sq(self) -> None:
        check_since_sq(self._probe)

    def _check_change_feed(self) -> None:
        check_change_feed(self._probe)

    def _check_lookups(self) -> None:
        check_lookups(self._probe)

    def _check_query(self) -> None:
        check_query(self._probe)

    def _check_error_body(self) -> None:
        check_error_body(self._probe)

    def _check_latency(self) -> None:
        check_latency(self._probe)

    def _check_parallel(self) -> None:
        check_parallel(self._probe)

    def _write_test(self, table_name: str, *, force: bool) -> str | None:
        return run_write_test(self._probe, table_name, force=force)
