"""The webhook signing secrets, and signing a payload exactly as Stripe does.

``STRIPE_WEBHOOK_SECRET`` may list several secrets separated by commas (during a
rotation Stripe signs with both). Without it, the dev provider signs with a secret
generated once and kept in the data dir, so ``make run`` needs no configuration.
"""

from __future__ import annotations

import secrets
import time

import stripe
from django.conf import settings

DEV_SECRET_FILE = "dev-webhook-secret"  # noqa: S105 - a file name, not a secret  # nosec B105


def dev_webhook_secret() -> str:
    """The generated development secret (created on first use, readable by the owner only)."""
    path = settings.PORTAL_DATA_DIR / DEV_SECRET_FILE
    if not path.exists():
        path.write_text("whsec_dev_" + secrets.token_hex(24))
        path.chmod(0o600)
    return path.read_text().strip()


def webhook_secrets() -> list[str]:
    """The secrets a webhook signature may be made with, newest first."""
    configured = [s.strip() for s in (settings.STRIPE_WEBHOOK_SECRET or "").split(",") if s.strip()]
    if configured:
        return configured
    if settings.STRIPE_SECRET_KEY:
        return []  # a live key with no webhook secret is refused by settings; never fall back
    return [dev_webhook_secret()]


def signature_header(
    payload: str, *, secret: str | None = None, timestamp: int | None = None
) -> str:
    """The ``Stripe-Signature`` header for ``payload`` (``t=…,v1=…``), as Stripe computes it."""
    secret = secret or webhook_secrets()[0]
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )
