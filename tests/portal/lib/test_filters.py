"""The shared URL filters: a bad value is left out and named with its label, never a 500."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.http import QueryDict

from portal.lib.filters import (
    AmountFilter,
    ChoiceFilter,
    DateFilter,
    TextFilter,
    UrlFilterSet,
    YearFilter,
    day_bounds,
)
from portal.models import AuditEvent


class Sample(UrlFilterSet):
    text = TextFilter(max_chars=5, field_name="actor_name", label="Text")
    choice = ChoiceFilter(choices=[("a", "A"), ("b", "B")], field_name="action", label="Choice")
    day = DateFilter(field_name="at", lookup_expr="date__gte", label="Day")
    year = YearFilter(label="Year", method="ignore")
    amount = AmountFilter(label="Amount", method="ignore")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def ignore(self, rows: object, name: str, value: object) -> object:
        return rows


def parsed(query: str) -> Sample:
    return Sample(QueryDict(query), queryset=AuditEvent.objects.none())


def test_it_trims_and_cuts_text_instead_of_refusing_it() -> None:
    assert parsed("text=%20abcdefgh%20").values["text"] == "abcde"


def test_it_reads_good_values_as_their_types() -> None:
    values = parsed("choice=%20b%20&day=2026-05-01&year=2026&amount=%241%2C250.50").values
    assert values == {
        "text": "",
        "choice": "b",
        "day": date(2026, 5, 1),
        "year": 2026,
        "amount": Decimal("1250.50"),
    }


def test_it_leaves_out_bad_values_and_names_each_with_its_label() -> None:
    filters = parsed(
        "choice=" + "z" * 50 + "&day=31/12/2026&year=" + "9" * 4301 + "&amount=-1&text=a%00b"
    )
    assert filters.values == {"text": "", "choice": "", "day": None, "year": None, "amount": None}
    assert filters.problems == {
        "text": ["Text: Null characters are not allowed."],
        "choice": ["Choice: '" + "z" * 30 + "' is not a choice."],
        "day": ["Day: enter a date like 2026-05-01."],
        "year": ["Year: choose a year like 2026 (for FY 2026-27)."],
        "amount": ["Amount: enter an amount like 1250.00."],
    }


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-0.01", "abc"])
def test_it_refuses_an_amount_that_is_not_a_finite_number(amount: str) -> None:
    assert "amount" in parsed(f"amount={amount}").problems


@pytest.mark.django_db
def test_a_filter_with_a_bad_value_does_not_narrow_the_rows() -> None:
    AuditEvent.objects.create(actor_name="rita", action="a")
    filters = Sample(QueryDict("day=nope&choice=a"), queryset=AuditEvent.objects.all())
    assert filters.qs.count() == 1
    assert Sample(QueryDict("choice=b"), queryset=AuditEvent.objects.all()).qs.count() == 0


def test_the_last_day_there_is_leaves_the_range_open_at_its_end() -> None:
    start, end = day_bounds(date(2026, 5, 1), date.max)
    assert start is not None
    assert start.date() == date(2026, 5, 1)
    assert end is None
