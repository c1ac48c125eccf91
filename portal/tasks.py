"""The portal's tasks: worker heartbeat, beat's Ninox syncs, the Ninox probe, account emails.

What an idle portal costs in Ninox calls is decided here and in beat's schedule
(``CELERY_BEAT_SCHEDULE``): Grants are synced every five minutes (one call when nothing
changed), Lodges hourly, and a successful sync *is* the probe: the probe task calls
Ninox only when no call has succeeded for ``PROBE_QUIET_PERIOD`` (syncs failing or not
running), and then at most every ``PROBE_EVERY``.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import beat_init, before_task_publish
from django.utils import timezone

from ninox_backend.exceptions import NinoxAuthError, NinoxError
from ninox_backend.ninox.connection import last_successful_call, probe
from ninox_backend.ninox.mirror import sync_mirror
from ninox_backend.ninox.quota import background_sync_allowed, quota_state
from portal.health import record_check
from portal.models import ServiceCheck

# A successful Ninox call this recent proves the link (two Grants syncs and a minute);
# the probe then spends no quota.
PROBE_QUIET_PERIOD = timedelta(minutes=11)
# While calls fail, the probe asks Ninox itself at most this often.
PROBE_EVERY = timedelta(minutes=5)


@shared_task
def heartbeat_task() -> None:
    """Proves a worker is consuming tasks (the health page warns when this gets old)."""
    record_check("worker", ok=True)


def _record_ninox_error(exc: NinoxError) -> str:
    if isinstance(exc, NinoxAuthError):
        record_check("ninox", ok=False, detail=f"the API key was refused ({exc.status})")
        return "auth"
    record_check("ninox", ok=False, detail=f"{type(exc).__name__}: {exc.message or exc}"[:500])
    return "down"


@shared_task
def ninox_mirror_task(tables: list[str] | None = None) -> str:
    """Beat's periodic sync of the mapped tables named (``["grants"]``); also the Ninox probe.

    Skipped once the monthly quota guard pauses background work. A success stores Ninox
    as reachable, a failure stores why, so ``/healthz`` needs no probe call of its own.
    """
    state = quota_state()
    if state.background_paused:
        return f"skipped: {state.message}"
    try:
        result = sync_mirror(tables=tables)
    except NinoxError as exc:
        # sync_mirror stored the error for the health page; the next beat tries again.
        return f"failed ({_record_ninox_error(exc)}): {type(exc).__name__}: {exc}"[:300]
    record_check("ninox", ok=True)
    what = ", ".join(tables) if tables else "all tables"
    return (
        f"ok: {what}, {result.created} created, {result.updated} updated, "
        f"{result.deleted} deleted, {result.calls} call(s)"
    )


@shared_task
def ninox_probe_task() -> str:
    """Store whether Ninox answers, for /healthz, calling it only when syncs do not show it.

    A call that succeeded within ``PROBE_QUIET_PERIOD`` proves the link (no call). A
    failure stored less than ``PROBE_EVERY`` ago stands (no call). Otherwise: one call.
    """
    now = timezone.now()
    stored = ServiceCheck.objects.filter(name="ninox").first()
    if stored is not None and stored.ok and now - stored.checked_at < PROBE_QUIET_PERIOD:
        return "ok (recent call)"  # a sync stored it: the cheap path, one query
    if not background_sync_allowed():
        # Keep the last stored state; the health page shows the quota warning.
        return "skipped (quota)"
    failed_at = stored.checked_at if stored is not None and not stored.ok else None
    recent = last_successful_call()
    # A success newer than any stored failure proves the link.
    if (
        recent is not None
        and now - recent < PROBE_QUIET_PERIOD
        and (failed_at is None or failed_at <= recent)
    ):
        record_check("ninox", ok=True, detail="")
        return "ok (recent call)"
    if failed_at is not None and now - failed_at < PROBE_EVERY:
        return "down (recent failure)"
    try:
        probe()
    except NinoxError as exc:
        return _record_ninox_error(exc)
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
