"""The website's API tokens as the admin page lists them (no secret is ever stored)."""

from __future__ import annotations

from django.db.models import QuerySet

from grants.models import ApiToken


def api_tokens() -> QuerySet[ApiToken]:
    """Live tokens first, then revoked ones; by name within each."""
    return ApiToken.objects.order_by("revoked_at", "name", "id")


def api_token_by_prefix(prefix: str) -> ApiToken | None:
    return ApiToken.objects.filter(prefix=prefix).first()
