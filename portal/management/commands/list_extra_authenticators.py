"""List users with more than one confirmed authenticator (TOTP) device.

Before the second-factor fix a session that knew only the password could enrol its
own authenticator; run this in production to find accounts where that may have
happened. Backup codes are not an authenticator and are not counted.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db.models import Count, Q
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "List users with more than one confirmed authenticator (TOTP) device."

    def handle(self, *args: Any, **options: Any) -> None:
        users = (
            get_user_model()
            .objects.annotate(
                authenticators=Count("totpdevice", filter=Q(totpdevice__confirmed=True))
            )
            .filter(authenticators__gt=1)
            .order_by("username")
        )
        found = 0
        for user in users:
            found += 1
            self.stdout.write(f"{user.get_username()}: {user.authenticators} authenticators")
            devices = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at")
            for device in devices:
                created = device.created_at.isoformat() if device.created_at else "unknown"
                used = device.last_used_at.isoformat() if device.last_used_at else "never"
                self.stdout.write(f"  {device.name!r}: added {created}, last used {used}")
        if found == 0:
            self.stdout.write("No user has more than one authenticator.")
        else:
            self.stdout.write(
                f"{found} user(s) have more than one authenticator: ask each whether they "
                "added them all; reset the second factor of any who did not."
            )
