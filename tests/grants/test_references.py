"""Application references: ``MG-<year>-<counter>``, never one Ninox already has."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from grants.references import next_reference
from tests.factories import NinoxGrantFactory

pytestmark = pytest.mark.django_db


def test_a_years_first_reference_follows_the_highest_ninox_already_has() -> None:
    NinoxGrantFactory.create(reference="MG-2031-00041")
    NinoxGrantFactory.create(reference="MG-2031-00007")
    NinoxGrantFactory.create(reference="MG-2030-00900")  # another year
    NinoxGrantFactory.create(reference="MG-2031-note")  # typed by hand: not a number
    with transaction.atomic():
        assert next_reference(2031) == "MG-2031-00042"
        assert next_reference(2031) == "MG-2031-00043"
    assert next_reference(2032) == "MG-2032-00001"


def test_a_reference_ninox_already_has_is_skipped_never_shared() -> None:
    assert next_reference(2033) == "MG-2033-00001"
    NinoxGrantFactory.create(reference="MG-2033-00002")  # a restored Ninox, say
    NinoxGrantFactory.create(reference="MG-2033-00003")
    assert next_reference(2033) == "MG-2033-00004"


def test_once_the_year_has_a_counter_a_reference_costs_two_statements() -> None:
    next_reference(2034)
    with CaptureQueriesContext(connection) as captured:
        next_reference(2034)
    # Add one to the counter and read it back in one statement; check Ninox does not have it.
    assert len(captured) == 2, [q["sql"][:60] for q in captured]
