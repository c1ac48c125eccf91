"""``manage.py ninox_check``: compare NINOX_SCHEMA with the live schema; non-zero on a problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ninox_backend.ninox import connection
from ninox_backend.ninox.management.live import live_schema


class Command(BaseCommand):
    help = "Check the portal's Ninox mapping (NINOX_SCHEMA) against the live database schema."

    def handle(self, *args: Any, **options: Any) -> None:
        mapping = connection.mapping()
        schema = live_schema()
        problems = mapping.check(schema)
        for table in mapping.tables.values():
            self.stdout.write(f"{table.name}: {len(table.fields)} mapped field(s)")
        if problems:
            for problem in problems:
                self.stderr.write(f"  PROBLEM {problem}")
            raise CommandError(f"{len(problems)} problem(s) in NINOX_SCHEMA.")
        self.stdout.write(self.style.SUCCESS("The mapping matches the live schema."))
