"""``Idempotency-Key``: a key claimed before the work it guards, so a retried POST gets the first reply.

A claim is an `IdempotentReply` row with status 0, inserted under the (token, key) unique
constraint: of two racing requests one inserts, the other waits for its reply. The holder
either stores its reply (`idempotency_reply_store`) or releases the key when nothing was
stored (`idempotency_release`), so a corrected retry may reuse it. A claim left without a
reply by a request that died is taken over after `ABANDONED_AFTER`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any, ClassVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from grants.models import ApiToken, IdempotentReply
from portal.lib.errors import PortalError

# A claim this old without a reply belonged to a request that died; it may be taken over.
ABANDONED_AFTER = timedelta(seconds=60)
# How long a retry waits for the first request's reply before it is told to come back.
WAIT_SECONDS = 10


class IdempotencyRefused(PortalError):
    """The key cannot be used for this request now; ``status`` is the HTTP status to answer."""

    status: ClassVar[int]


class IdempotencyKeyReused(IdempotencyRefused):
    status = 422

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was used with a different body.")


class IdempotencyKeyBusy(IdempotencyRefused):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry shortly."
        )


def idempotency_claim(*, token: ApiToken, key: str, request_hash: str) -> IdempotentReply:
    """Claim ``key`` for ``token`` before doing anything, so two racing retries act once.

    Returns this request's claim (``status`` 0: store a reply or release it) or the earlier
    request's finished reply (``status`` set: send it again). Raises `IdempotencyKeyReused`
    when the key came with another body, `IdempotencyKeyBusy` when the earlier request is
    still at work after `WAIT_SECONDS`.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                return IdempotentReply.objects.create(
                    token=token, key=key, request_hash=request_hash, status=0, body={}
                )
        except IntegrityError:
            earlier = IdempotentReply.objects.filter(token=token, key=key).first()
        if earlier is None:
            continue  # released between our insert and read; try again
        if earlier.request_hash != request_hash:
            raise IdempotencyKeyReused
        if earlier.status:
            return earlier
        if timezone.now() - earlier.created_at > ABANDONED_AFTER:
            IdempotentReply.objects.filter(pk=earlier.pk, status=0).delete()
            continue
        if time.monotonic() > deadline:
            raise IdempotencyKeyBusy
        time.sleep(0.05)


def idempotency_reply_store(*, claim: IdempotentReply, status: int, body: Any) -> None:
    """Keep the reply to the claimed request, for its retries."""
    claim.status, claim.body = status, body
    claim.save(update_fields=["status", "body"])


def idempotency_release(*, claim: IdempotentReply) -> None:
    """Give the key back: nothing was stored, so a corrected retry may reuse it."""
    claim.delete()
