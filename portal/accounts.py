"""Staff account operations shared by views, commands and signals."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.models import Session
from django.utils import timezone


def end_user_sessions(user: Any) -> int:
    """Delete every open session of ``user``; returns how many were ended.

    Sessions are in the database, so this scans the unexpired ones. Staff numbers
    are small; the scan is a few hundred rows at most.
    """
    ended = 0
    user_id = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get("_auth_user_id") == user_id:
            session.delete()
            ended += 1
    return ended
