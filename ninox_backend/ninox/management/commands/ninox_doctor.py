"""``manage.py ninox_doctor``: settle what the configured Ninox account does; store the profile.

Read-only unless ``--write-test TABLE``. Prints one line per check (✓/✗ and what the
portal will do), saves the capability profile the client then uses, and prints it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ninox_backend.doctor import Doctor, format_finding, format_profile, safe_base_url
from ninox_backend.ninox import connection
from ninox_backend.ninox.profile_store import forget_profile, load_profile, save_profile
from ninox_backend.profile import Finding


class Command(BaseCommand):
    help = (
        "Check what the configured Ninox account really does (API, schema ids, page size, "
        "sinceSq, change feed, lookup form, value shapes, errors, latency, parallel calls) and "
        "store the capability profile the portal then uses. Read-only unless --write-test."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--write-test",
            metavar="TABLE",
            help="create, look up, update and delete one scratch record in TABLE (by name or "
            "id) to see how each change appears in the change feed",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="run the write test even on a table with afterCreate/afterUpdate triggers",
        )
        parser.add_argument(
            "--no-save", action="store_true", help="print the findings, store nothing"
        )
        parser.add_argument(
            "--forget",
            action="store_true",
            help="delete the stored profile (back to the conservative defaults) and stop",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("forget"):
            forget_profile()
            self.stdout.write(
                "Stored profile deleted: the portal uses the conservative defaults (no change "
                "feed, query-verified write-back, perPage 100)."
            )
            return
        write_test: str | None = options.get("write_test")
        database = connection.database()
        client = database.client
        base_url = client.base_url
        mode = f"write test on {write_test}" if write_test else "read-only"
        where = (
            f"workspace {database.team_id}, module {database.id}"
            if connection.is_workspace()
            else f"team {database.team_id}, database {database.id}"
        )
        self.stdout.write(f"Ninox doctor: {safe_base_url(base_url)}, {where} ({mode})")

        def show(finding: Finding) -> None:
            line = format_finding(finding)
            self.stdout.write(line if finding.ok else self.style.WARNING(line))

        doctor = Doctor(
            database,
            connection.mapping(),
            on_finding=show,
            previous=load_profile(),
            # Configured for the classic API, the workspace API is tried with this id.
            workspace_id=getattr(settings, "NINOX_WORKSPACE_ID", None),
        )
        # The doctor provokes 404s on purpose: keep the client's INFO lines about them quiet.
        logger = logging.getLogger("ninox_backend")
        level = logger.level
        logger.setLevel(max(level, logging.WARNING))
        try:
            report = doctor.run(write_test, force=bool(options.get("force")))
        finally:
            logger.setLevel(level)
        saved = not options.get("no_save")
        if saved:
            save_profile(report.profile)
        self.stdout.write("")
        self.stdout.write(
            ("Profile saved" if saved else "Profile (not saved)")
            + f" ({report.calls} Ninox calls):"
        )
        for line in format_profile(report.profile):
            self.stdout.write(f"  {line}")
        configured = "workspace" if connection.is_workspace() else "classic"
        if report.profile.api != configured:
            proposal = (
                f" Set NINOX_API={report.profile.api} (see the first line above)."
                if report.profile.api in ("classic", "workspace")
                else " Neither Ninox API answered (see the first line above)."
            )
            raise CommandError(
                f"The portal cannot use this account as configured (NINOX_API={configured})."
                + proposal
            )
        if report.write_test_refused:
            raise CommandError(f"The write test did not run: {report.write_test_refused}.")
