"""``manage.py ninox_schema``: print the live schema as readable text."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ninox_backend.ninox.management.live import live_schema


class Command(BaseCommand):
    help = "Print the live Ninox schema: tables, fields, types, choices, references, formulas."

    def handle(self, *args: Any, **options: Any) -> None:
        schema = live_schema()
        names = {table.id: table.name for table in schema.tables}
        for table in schema.tables:
            self.stdout.write(f"Table {table.name} (id {table.id}, {table.kind})")
            for field in table.fields:
                detail = ""
                if field.choices:
                    detail = " choices: " + ", ".join(field.choices.values())
                if field.ref_table:
                    detail = f" → {names.get(field.ref_table, field.ref_table)}"
                if field.formula:
                    detail = f" = {field.formula}"
                required = " required" if field.required else ""
                self.stdout.write(
                    f"  {field.id:>3}  {field.name:<24} {field.type}{required}{detail}"
                )
            self.stdout.write("")
