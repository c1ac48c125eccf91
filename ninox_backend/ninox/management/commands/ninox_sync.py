"""``manage.py ninox_sync [--full]``: bring the portal's mirror of Ninox up to date."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ninox_backend.exceptions import NinoxError
from ninox_backend.ninox.mirror import sync_mirror
from ninox_backend.sync import SyncProgress


class Command(BaseCommand):
    help = "Sync the mirrored Ninox tables (incremental; --full pages everything again)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--full", action="store_true", help="page through every record again")

    def handle(self, *args: Any, **options: Any) -> None:
        tty = sys.stdout.isatty()

        def progress(p: SyncProgress) -> None:
            if not tty:
                return
            width = 30
            if p.total:
                filled = min(width, int(width * p.done / p.total))
                bar = "#" * filled + "-" * (width - filled)
                line = f"\r{p.table:<12} [{bar}] {p.done}/{p.total}"
            else:
                line = f"\r{p.table:<12} {p.phase} {p.done}"
            self.stdout.write(line, ending="")
            self.stdout.flush()

        try:
            result = sync_mirror(full=options["full"], progress=progress)
        except NinoxError as exc:
            raise CommandError(f"Ninox sync failed: {type(exc).__name__}: {exc}") from None
        if tty:
            self.stdout.write("")
        kind = "Full" if result.full else "Incremental"
        self.stdout.write(
            f"{kind} sync: {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted; high-water mark {result.high_water}; "
            f"{result.calls} Ninox call(s)."
        )
