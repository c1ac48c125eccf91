"""Grants administration under ``/manage/``: rules, API tokens, health-page actions."""

from django.urls import path

from grants.views import health, manage
from portal.lib import converters  # noqa: F401 - registers <dbid:…>

app_name = "grants_manage"

urlpatterns = [
    path("rules/", manage.rules, name="rules"),
    path("tokens/", manage.tokens, name="tokens"),
    path("tokens/<str:prefix>/revoke/", manage.token_revoke, name="token_revoke"),
    path("ninox/sync/", health.ninox_sync, name="ninox_sync"),
    path("ninox/drift-check/", health.ninox_drift_check, name="ninox_drift_check"),
    path("outbox/<dbid:outbox_id>/retry/", health.outbox_retry_one, name="outbox_retry"),
    path("outbox/retry-failed/", health.outbox_retry_failed, name="outbox_retry_failed"),
]
