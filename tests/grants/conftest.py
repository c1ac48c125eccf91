"""Fixtures for the grants tests: the demo Ninox, mirrored, and lodges in known states."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from grants.forms import ApplicationInput, application_form
from grants.models import Application, Lodge, NinoxGrant
from grants.rules import current_fiscal_year
from grants.services.submit import application_submit
from ninox_backend.ninox.mirror import sync_mirror
from tests.grants.ninox_variants import use_variant  # noqa: F401 (a fixture for every grants test)


@pytest.fixture
def mirrored(ninox: Any, db: Any) -> Any:
    """The demo Ninox, with the portal's mirror loaded."""
    sync_mirror(full=True)
    sync_mirror()  # the read after a load re-reads each table's tail once; then one call a table
    return ninox


def valid_body(lodge_number: int, **overrides: Any) -> dict[str, Any]:
    from django.utils import timezone

    body = {
        "lodge_number": str(lodge_number),
        "contact_name": "Jo Secretary",
        "contact_email": "jo@example.org",
        "charity_name": "Food bank",
        "purpose": "Winter appeal",
        "amount_raised": "500.00",
        "amount_requested": "500.00",
        "event_date": timezone.localdate().isoformat(),
    }
    body.update({k: str(v) for k, v in overrides.items()})
    return body


def as_cleaned(body: dict[str, Any], *, lenient: bool = True) -> ApplicationInput:
    """``body`` as the apply form (or, ``lenient=False``, the API's form) accepts it."""
    return application_form(body, lenient=lenient).application()


def submit(number: int, amount: str = "500.00") -> Application:
    """An application submitted through the apply form's path, decided as intake decides."""
    return application_submit(
        cleaned=as_cleaned(valid_body(number, amount_raised=amount, amount_requested=amount)),
        source="web",
    )


def needs_review(lodge: Lodge, amount: str = "500.00") -> Application:
    """An application submitted for ``lodge``, then set to wait for a reviewer."""
    application = submit(lodge.number, amount)
    Application.objects.filter(pk=application.pk).update(
        status="needs_review", review_reason="Ninox unreachable"
    )
    application.refresh_from_db()
    return application


def used_this_year(lodge: Lodge) -> Decimal:
    from grants.selectors.budgets import lodge_budget

    return lodge_budget(lodge.id, current_fiscal_year().key, Decimal("4000.00")).used


@pytest.fixture
def fresh_lodge(mirrored: Any) -> Lodge:
    """An active lodge with no grant in the current fiscal year."""
    fy = current_fiscal_year().key
    used = set(NinoxGrant.objects.filter(fiscal_year=fy).values_list("lodge_id", flat=True))
    return Lodge.objects.filter(active=True).exclude(id__in=used).order_by("number").first()  # type: ignore[return-value]


def statements(captured: Any, table: str, verb: str = "") -> list[str]:
    """The captured SQL statements naming ``table`` (and starting with ``verb``, if given)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if f'"{table}"' in q["sql"] and q["sql"].lstrip().upper().startswith(verb)
    ]
