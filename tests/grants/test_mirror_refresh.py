"""The refresh before a decision: never a 500, Grants only unless the lodge is unknown."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from grants.models import Application, Lodge, Status
from grants.rules import current_fiscal_year
from grants.services import mirror_refresh as mirror_service
from grants.services.mirror_refresh import mirror_refresh
from grants.services.submit import application_submit
from grants.sync_handlers import GrantHandler
from grants.tokens import api_token_create
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = [pytest.mark.django_db, pytest.mark.db_engine]


def add_grant_in_ninox(ninox: Any, lodge: Lodge) -> None:
    """A change for the next sync to store."""
    ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("10.00"),
                "Grant Date": current_fiscal_year().start.isoformat(),
                "Status": "Paid",
            }
        ],
    )


@pytest.fixture(params=["type error", "database error"])
def storing_fails(request: Any, mirrored: Any, fresh_lodge: Lodge, monkeypatch: Any) -> str:
    """Ninox answers, but storing what it sent fails with something that is not a NinoxError."""
    failure = (
        TypeError("Object of type Decimal is not JSON serializable")
        if request.param == "type error"
        else DatabaseError("disk I/O error")
    )

    def upsert(self: GrantHandler, records: list[Any]) -> None:
        raise failure

    monkeypatch.setattr(GrantHandler, "upsert", upsert)
    add_grant_in_ninox(mirrored, fresh_lodge)
    return type(failure).__name__


def test_a_failure_that_is_not_a_ninox_error_is_logged_with_its_traceback(
    storing_fails: str, caplog: Any
) -> None:
    with caplog.at_level(logging.ERROR, logger="grants"):
        freshness = mirror_refresh()
    assert freshness.fresh is False
    assert storing_fails in freshness.problem
    [logged] = [r for r in caplog.records if r.name == "grants"]
    assert logged.exc_info is not None  # the traceback, for staff
    assert "test-token" not in caplog.text  # never the key


@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs"])
def test_the_api_still_answers_201_with_needs_review_and_the_reason(
    storing_fails: str, fresh_lodge: Lodge, ninox_dialect: str
) -> None:
    token = api_token_create(name="website")[1]
    response = Client().post(
        "/api/v1/applications",
        data=json.dumps(valid_body(fresh_lodge.number)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.json()["status"] == "needs_review"
    application = Application.objects.get()
    assert application.review_reason.startswith("The Ninox mirror could not be refreshed")
    assert storing_fails in application.review_reason


def test_the_apply_form_still_receives_the_application_for_review(
    storing_fails: str, fresh_lodge: Lodge
) -> None:
    response = Client().post("/apply/", valid_body(fresh_lodge.number), follow=True)
    assert response.status_code == 200
    application = Application.objects.get()
    assert application.status == Status.NEEDS_REVIEW
    assert storing_fails in application.review_reason


def test_an_unknown_lodge_is_still_received_for_review_when_storing_fails(
    mirrored: Any, monkeypatch: Any
) -> None:
    def sync(**kwargs: Any) -> None:
        raise TypeError("unexpected")

    monkeypatch.setattr(mirror_service, "sync_mirror", sync)
    application = application_submit(cleaned=as_cleaned(valid_body(99997)), source="web")
    assert application.status == Status.NEEDS_REVIEW
    assert application.review_reason.startswith("The lodge number could not be checked")


@pytest.fixture
def synced_tables(mirrored: Any, monkeypatch: Any) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []

    def sync_mirror(*, full: bool = False, progress: Any = None, tables: Any = None) -> None:
        calls.append(tuple(tables))

    monkeypatch.setattr(mirror_service, "sync_mirror", sync_mirror)
    return calls


def test_a_decision_for_a_known_lodge_reads_only_grants(
    synced_tables: list[tuple[str, ...]], fresh_lodge: Lodge
) -> None:
    assert mirror_refresh(lodge_number=fresh_lodge.number).fresh
    assert synced_tables == [("grants",)]


def test_a_decision_for_a_lodge_not_in_the_mirror_reads_lodges_too(
    synced_tables: list[tuple[str, ...]],
) -> None:
    assert mirror_refresh(lodge_number=99996).fresh
    assert synced_tables == [("lodges", "grants")]


@pytest.mark.parametrize("ninox_dialect", ["legacy", "docs"])
def test_a_lodge_new_in_ninox_can_apply_at_once(mirrored: Any, ninox_dialect: str) -> None:
    mirrored.emulator.insert(
        mirrored.team_id,
        mirrored.database_id,
        "Lodges",
        [{"Number": 99995, "Name": "New Lodge No. 99995", "Active": True}],
    )
    application = application_submit(cleaned=as_cleaned(valid_body(99995)), source="web")
    assert application.lodge is not None
    assert application.lodge.number == 99995
    assert application.status == Status.APPROVED
