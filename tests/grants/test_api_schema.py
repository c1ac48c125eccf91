"""schemathesis: the website API against its own OpenAPI document (no 5xx, replies conform)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from grants.services.api_tokens import api_token_create

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(db: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_token_create(name='schemathesis')[1]}"}


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_conforms_to_its_openapi_document(
    case: Any, bearer: dict[str, str], mirrored: Any
) -> None:
    # Schema-valid is not always acceptable: the lodge must exist and the event date must lie
    # within a year of today, rules a schema cannot state. Every other check applies.
    case.call_and_validate(headers=bearer, excluded_checks=[positive_data_acceptance])
