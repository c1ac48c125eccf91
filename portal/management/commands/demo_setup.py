"""Create the demo staff users (admin, reviewer, finance). Running it again keeps the data."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from portal import roles

DEMO_USERS = {
    "admin": ("Ada", "Admin", [roles.ADMIN]),
    "reviewer": ("Rita", "Reviewer", [roles.REVIEWER]),
    "finance": ("Fin", "Finance", [roles.FINANCE]),
}


def demo_password() -> str:
    """DEMO_PASSWORD, or a generated one kept in the data dir so every run prints the same."""
    if settings.DEMO_PASSWORD:
        return str(settings.DEMO_PASSWORD)
    path = settings.PORTAL_DATA_DIR / "demo-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create the demo staff users; prints their logins."

    def handle(self, *args: Any, **options: Any) -> None:
        password = demo_password()
        user_model = get_user_model()
        for username, (first, last, role_names) in DEMO_USERS.items():
            user, created = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.org",
                },
            )
            if created:
                user.set_password(password)
                user.save()
                user.groups.set(Group.objects.filter(name__in=role_names))
        self.stdout.write("Demo logins (username / password):")
        for username in DEMO_USERS:
            self.stdout.write(f"  {username} / {password}")
