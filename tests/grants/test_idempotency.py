"""``Idempotency-Key`` claims: one request acts, its retries get its reply."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grants.models import ApiToken, IdempotentReply
from grants.services import idempotency
from grants.services.api_tokens import api_token_create
from grants.services.idempotency import (
    ABANDONED_AFTER,
    IdempotencyKeyBusy,
    IdempotencyKeyReused,
    idempotency_claim,
    idempotency_release,
    idempotency_reply_store,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def token() -> ApiToken:
    return api_token_create(name="website")[0]


def test_it_claims_a_new_key_for_the_request(token: ApiToken) -> None:
    claim = idempotency_claim(token=token, key="k1", request_hash="h1")
    assert claim.status == 0
    assert IdempotentReply.objects.filter(token=token, key="k1").count() == 1


def test_a_retry_gets_the_stored_reply(token: ApiToken) -> None:
    claim = idempotency_claim(token=token, key="k1", request_hash="h1")
    idempotency_reply_store(claim=claim, status=201, body={"reference": "GR-1"})
    again = idempotency_claim(token=token, key="k1", request_hash="h1")
    assert (again.pk, again.status, again.body) == (claim.pk, 201, {"reference": "GR-1"})


def test_it_refuses_the_key_with_another_body(token: ApiToken) -> None:
    idempotency_claim(token=token, key="k1", request_hash="h1")
    with pytest.raises(IdempotencyKeyReused) as refused:
        idempotency_claim(token=token, key="k1", request_hash="h2")
    assert refused.value.status == 422


def test_it_answers_busy_while_the_first_request_is_still_at_work(
    token: ApiToken, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.1)
    idempotency_claim(token=token, key="k1", request_hash="h1")
    with pytest.raises(IdempotencyKeyBusy) as refused:
        idempotency_claim(token=token, key="k1", request_hash="h1")
    assert refused.value.status == 409
    assert "still being processed" in refused.value.message


def test_it_takes_over_a_claim_its_request_abandoned(token: ApiToken) -> None:
    first = idempotency_claim(token=token, key="k1", request_hash="h1")
    IdempotentReply.objects.filter(pk=first.pk).update(
        created_at=first.created_at - ABANDONED_AFTER - timedelta(seconds=1)
    )
    second = idempotency_claim(token=token, key="k1", request_hash="h1")
    assert second.status == 0
    assert second.pk != first.pk
    assert not IdempotentReply.objects.filter(pk=first.pk).exists()


def test_a_released_key_can_be_claimed_with_a_corrected_body(token: ApiToken) -> None:
    idempotency_release(claim=idempotency_claim(token=token, key="k1", request_hash="h1"))
    assert idempotency_claim(token=token, key="k1", request_hash="h2").status == 0
