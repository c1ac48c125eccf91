"""Who may GET each URL pattern: the table `tests/test_authorization.py` checks.

Every named pattern has a row: the status each kind of visitor gets, in `VISITORS` order,
and the URL arguments to reverse it with. The HEAD-request and hostile-input sweeps read
the same table.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

VISITORS = ("anonymous", "outsider", "reviewer", "finance", "admin")

# Shorthands for a row: the status each visitor gets, in VISITORS order.
STAFF_ONLY = (302, 403, 200, 200, 200)  # any role; anonymous goes to login
SIGNED_IN = (302, 200, 200, 200, 200)  # any signed-in account, with or without a role
PUBLIC = (200, 200, 200, 200, 200)
POST_ONLY_SIGNED_IN = (302, 405, 405, 405, 405)
REVIEWERS = (302, 403, 200, 403, 200)  # the Reviewer role (and Admin)
STAFF_NOT_FOUND = (302, 403, 404, 404, 404)  # any role may look; this object does not exist
FINANCE = (302, 403, 403, 200, 200)  # the Finance role (and Admin)
FINANCE_NOT_FOUND = (302, 403, 403, 404, 404)
ADMINS = (302, 403, 403, 403, 200)
EXPORT_ID = {"uuid": "00000000-0000-4000-8000-000000000000"}

EXPECTED: dict[str, tuple[tuple[int, ...], dict[str, Any]]] = {
    "home": (STAFF_ONLY, {}),
    "health": (STAFF_ONLY, {}),
    "healthz": (PUBLIC, {}),
    "login": ((200, 302, 302, 302, 302), {}),
    "two_factor_verify": (SIGNED_IN, {}),
    "logout": (POST_ONLY_SIGNED_IN, {}),
    "two_factor_setup": (SIGNED_IN, {}),
    "two_factor_backup_codes": (POST_ONLY_SIGNED_IN, {}),
    "password_change": (SIGNED_IN, {}),
    "password_change_done": (SIGNED_IN, {}),
    "password_reset": (PUBLIC, {}),
    "password_reset_done": (PUBLIC, {}),
    "password_reset_confirm": (PUBLIC, {"uidb64": "MQ", "token": "set-password"}),
    "password_reset_complete": (PUBLIC, {}),
    # Public intake: the apply form, its lodge lookup, the signed status page, the website API.
    "grants:apply": (PUBLIC, {}),
    "grants:lodge_lookup": (PUBLIC, {}),
    "grants:status": ((404,) * 5, {"token": "not-signed"}),
    "grants:api_applications": ((405,) * 5, {}),
    "grants:api_application": ((401,) * 5, {"reference": "MG-2026-00001"}),
    "grants:api_openapi": (PUBLIC, {}),
    # Payments: the link's token is the key; the dev checkout and Stripe's webhook take POSTs only.
    "grants:pay": ((404,) * 5, {"token": "no-such-token"}),
    "grants:pay_dev": ((405,) * 5, {"token": "no-such-token"}),
    "grants:stripe_webhook": ((405,) * 5, {}),
    # Staff pages.
    "grants:queue": (REVIEWERS, {}),
    "grants:dashboard_counters": (STAFF_ONLY, {}),  # the dashboard's counters, a fragment
    "grants:bulk": (REVIEWERS, {}),
    "grants:application": (STAFF_NOT_FOUND, {"reference": "MG-1999-00001"}),
    # GET: the queue row expanded with its decision (HTMX; otherwise to the detail page).
    "grants:decide": ((302, 403, 404, 403, 404), {"reference": "MG-1999-00001"}),
    "grants:decision_undo": ((302, 405, 405, 405, 405), {"reference": "MG-1999-00001"}),
    "grants:email_resend": (
        (302, 405, 405, 405, 405),
        {"reference": "MG-1999-00001", "email_id": 1},
    ),
    "grants:resend_link": ((302, 405, 405, 405, 405), {"reference": "MG-1999-00001"}),
    # Cancel (Reviewer, Admin) and refund (Finance, Admin): a page each, then a POST.
    "grants:cancel": ((302, 403, 404, 403, 404), {"reference": "MG-1999-00001"}),
    "grants:refund": (FINANCE_NOT_FOUND, {"reference": "MG-1999-00001"}),
    "grants:lodges": (STAFF_ONLY, {}),
    "grants:lodge": (STAFF_NOT_FOUND, {"number": 99999}),
    # Finance reports.
    "reports:summary": (FINANCE, {}),
    "reports:ledger": (FINANCE, {}),
    "reports:reconciliation": (FINANCE, {}),
    "reports:export": (FINANCE_NOT_FOUND, EXPORT_ID),
    "reports:export_download": (FINANCE_NOT_FOUND, EXPORT_ID),
    # Administration (Admin only).
    "manage:index": (ADMINS, {}),
    "manage:users": (ADMINS, {}),
    "manage:invite": (ADMINS, {}),
    "manage:user": ((302, 403, 403, 403, 404), {"username": "nobody"}),
    "manage:user_action": (POST_ONLY_SIGNED_IN, {"username": "nobody"}),
    "manage:audit": (ADMINS, {}),
    "grants_manage:rules": (ADMINS, {}),
    "grants_manage:tokens": (ADMINS, {}),
    "grants_manage:token_revoke": (POST_ONLY_SIGNED_IN, {"prefix": "00000000"}),
    "grants_manage:ninox_sync": (POST_ONLY_SIGNED_IN, {}),
    "grants_manage:ninox_drift_check": (POST_ONLY_SIGNED_IN, {}),
    "grants_manage:outbox_retry": (POST_ONLY_SIGNED_IN, {"outbox_id": 1}),
    "grants_manage:outbox_retry_failed": (POST_ONLY_SIGNED_IN, {}),
}

# The Django admin is for superusers only and guards itself; checked as a block below.
EXCLUDED_NAMESPACES = {"admin"}


def named_patterns(patterns: list[Any] | None = None, namespace: str = "") -> list[str]:
    names = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names += named_patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            if not entry.name:
                pytest.fail(
                    f"URL pattern {entry.pattern} has no name: name it and add it to EXPECTED"
                )
            names.append(f"{namespace}{entry.name}")
    return names
