"""``manage.py create_api_token NAME``: prints the new token alone on the last line, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from grants.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for the foundation's website. The token is shown only now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="who uses it, e.g. 'foundation website'")

    def handle(self, *args: Any, **options: Any) -> None:
        token, value = api_token_create(name=options["name"], actor="command line")
        self.stderr.write(
            f"Created API token {token.name!r}. Store it now; it cannot be shown again."
        )
        self.stdout.write(value)
