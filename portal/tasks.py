"""The portal's tasks: worker heartbeat, the Ninox probe, and account emails."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import beat_init, before_task_publish
from django.conf import settings
from django.utils import timezone

from ninox_backend.connection import client, last_successful_call
from ninox_backend.exceptions import NinoxAuthError, NinoxError
from ninox_backend.quota import background_sync_allowed
from portal.health import record_check

# A successful Ninox call this recent proves the link; the probe then spends no quota.
PROBE_QUIET_PERIOD = timedelta(seconds=90)


@shared_task
def heartbeat_task() -> None:
    """Proves a worker is consuming tasks (the health page warns when this gets old)."""
    record_check("worker", ok=True)


@shared_task
def ninox_probe_task() -> str:
    """Check the Ninox link about once a minute and store the result for /healthz."""
    if not background_sync_allowed():
        # Keep the last stored state; the health page shows the quota warning.
        return "skipped (quota)"
    recent = last_successful_call()
    if recent is not None and timezone.now() - recent < PROBE_QUIET_PERIOD:
        record_check("ninox", ok=True, detail="")
        return "ok (recent call)"
    try:
        client().team(settings.NINOX_TEAM_ID)
    except NinoxAuthError as exc:
        record_check("ninox", ok=False, detail=f"the API key was refused ({exc.status})")
        return "auth"
    except NinoxError as exc:
        record_check("ninox", ok=False, detail=f"{type(exc).__name__}: {exc.message or exc}"[:500])
        return "down"
    record_check("ninox", ok=True)
    return "ok"


_is_beat = False


@beat_init.connect
def _mark_beat(sender: Any = None, **kwargs: Any) -> None:
    global _is_beat
    _is_beat = True


@before_task_publish.connect
def _beat_heartbeat(sender: Any = None, **kwargs: Any) -> None:
    # Beat publishes every scheduled task; each publish proves beat is alive.
    if _is_beat:
        record_check("beat", ok=True)


@shared_task(
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=30,
    max_retries=5,
)
def password_reset_email_task(user_id: int | None) -> None:
    """Email a link to set a new password, if the account may still have one.

    The reset page queues this for every request (``None`` when no account matched) and
    answers at once, so neither its reply nor its timing tells whether an address has an
    account. The link is built from ``PORTAL_BASE_URL``, never the request's Host.
    """
    if user_id is None:
        return
    from django.contrib.auth import get_user_model

    from portal.lib.email import build_email
    from portal.services.users import set_password_url

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not user.has_usable_password():
        return
    context = {"user": user, "link": set_password_url(user)}
    build_email("password-reset", context, to=[user.email]).send()


@shared_task
def two_factor_device_added_email_task(user_id: int) -> None:
    """Tell the user an authenticator was added to their account (theirs, or an intruder's)."""
    from django.contrib.auth import get_user_model

    from portal.lib.email import build_email

    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    build_email("two-factor-device-added", {"user": user}, to=[user.email]).send()
