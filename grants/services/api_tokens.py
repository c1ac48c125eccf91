"""API tokens for the foundation's website: ``gp_<prefix>_<secret>``, stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from grants.models import ApiToken
from portal.audit import audit_record


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, name: str, actor: Any = "system") -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(name=name[:100], prefix=prefix, token_hash=_hash(secret))
    audit_record(actor=actor, action="api_token.created", obj=token)
    return token, f"gp_{prefix}_{secret}"


def api_token_revoke(*, token: ApiToken, actor: Any) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(actor=actor, action="api_token.revoked", obj=token)


def authenticate(header: str) -> ApiToken | None:
    """The active token named by an ``Authorization: Bearer gp_…`` header, or None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.startswith("gp_"):
        return None
    _, _, rest = value.partition("_")
    prefix, _, secret = rest.partition("_")
    if not prefix or not secret:
        return None
    token = ApiToken.objects.filter(Q(prefix=prefix) & Q(revoked_at__isnull=True)).first()
    if token is None or not hmac.compare_digest(token.token_hash, _hash(secret)):
        return None
    # Writes at most once a minute per token: last_used_at is for people, not accounting.
    stale = timezone.now() - timedelta(minutes=1)
    ApiToken.objects.filter(
        Q(pk=token.pk) & (Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale))
    ).update(last_used_at=timezone.now())
    return token
