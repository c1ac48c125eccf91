"""The stored capability profile of the configured account (one row per base URL, team and database).

``load_profile()`` is what the sync, the decision refresh and the write-back ask;
with nothing stored it is ``CONSERVATIVE``. ``manage.py ninox_doctor`` saves one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError

from ..profile import CONSERVATIVE, CapabilityProfile


def profile_key() -> str:
    """The account the profile is about: base URL, team and database (never the key)."""
    if getattr(settings, "NINOX_API", "classic") == "workspace":
        return f"{settings.NINOX_BASE_URL}|{settings.NINOX_WORKSPACE_ID}/{settings.NINOX_MODULE}"
    return f"{settings.NINOX_BASE_URL}|{settings.NINOX_TEAM_ID}/{settings.NINOX_DATABASE_ID}"


def load_profile() -> CapabilityProfile:
    """The doctor's profile for the configured account, else the conservative default."""
    from .models import StoredProfile

    try:
        row = StoredProfile.objects.filter(key=profile_key()).first()
    except DatabaseError:
        return CONSERVATIVE
    return CapabilityProfile.from_json(row.data) if row else CONSERVATIVE


def save_profile(profile: CapabilityProfile) -> None:
    from .models import StoredProfile

    StoredProfile.objects.update_or_create(
        key=profile_key(), defaults={"data": profile.to_json(), "checked_at": profile.checked_at}
    )


def forget_profile() -> None:
    """Back to the conservative default (e.g. after moving to another Ninox account)."""
    from .models import StoredProfile

    StoredProfile.objects.filter(key=profile_key()).delete()
