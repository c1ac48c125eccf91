"""Filters read from the URL, declared once as django-filter ``FilterSet``s.

The review queue, the finance reports and the audit log each declare their filters
on a ``UrlFilterSet`` with the fields below. A value that does not parse is left out
of the filtering (django-filter filters by the valid fields only) and named in
``problems`` as "Label: rule"; a page shows it or ignores it, never a 500.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

DATE_RULE = "enter a date like 2026-05-01."


class TrimmedTextField(forms.CharField):
    """Text stripped and cut to ``max_chars``: a long value is shortened, not refused."""

    def __init__(self, *, max_chars: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_chars = max_chars

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value))[: self.max_chars]


class TrimmedChoiceField(forms.ChoiceField):
    """One of ``choices`` (surrounding spaces ignored); the error quotes the value, cut short."""

    default_error_messages = {"invalid_choice": "%(value)s is not a choice."}

    def to_python(self, value: Any) -> str:
        return str(super().to_python(value)).strip()

    def validate(self, value: Any) -> None:
        if value and not self.valid_value(value):
            raise ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": repr(value[:30])},
            )


class IsoDateField(forms.Field):
    """A date written as ISO 8601 (``2026-05-01``), as ``<input type=date>`` sends it."""

    default_error_messages = {"invalid": DATE_RULE}

    def to_python(self, value: Any) -> date | None:
        raw = str(value or "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class YearField(forms.Field):
    """A fiscal year's key: four ASCII digits between ``min_year`` and ``max_year``."""

    default_error_messages = {"invalid": "choose a year like 2026 (for FY 2026-27)."}

    def __init__(self, *, min_year: int = 2000, max_year: int = 2100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_year, self.max_year = min_year, max_year

    def to_python(self, value: Any) -> int | None:
        raw = str(value or "").strip()
        if not raw:
            return None
        # Checked before int(): Python refuses int() of more than 4,300 digits.
        if raw.isascii() and raw.isdigit() and len(raw) == 4:
            year = int(raw)
            if self.min_year <= year <= self.max_year:
                return year
        raise ValidationError(self.error_messages["invalid"], code="invalid")


class AmountField(forms.Field):
    """An amount of money at or above zero, as people type it (``$1,250.00``)."""

    default_error_messages = {"invalid": "enter an amount like 1250.00."}

    def to_python(self, value: Any) -> Decimal | None:
        raw = str(value or "").strip().replace(",", "").lstrip("$")
        if not raw:
            return None
        try:
            amount = Decimal(raw)
        except (InvalidOperation, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not amount.is_finite() or amount < 0:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


class TextFilter(django_filters.CharFilter):
    """``TextFilter(max_chars=100, field_name=..., lookup_expr=...)``."""

    field_class = TrimmedTextField


class ChoiceFilter(django_filters.Filter):
    """Like django-filter's, without its empty "---------" choice (the page draws its own)."""

    field_class = TrimmedChoiceField


class DateFilter(django_filters.Filter):
    field_class = IsoDateField


class YearFilter(django_filters.Filter):
    field_class = YearField


class AmountFilter(django_filters.Filter):
    field_class = AmountField


def day_bounds(
    date_from: date | None, date_to: date | None
) -> tuple[datetime | None, datetime | None]:
    """Local midnight at the start of ``date_from`` and after ``date_to`` (None: open end)."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(date_from, time.min, zone) if date_from else None
    end = (
        datetime.combine(date_to + timedelta(days=1), time.min, zone)
        if date_to and date_to < date.max
        else None
    )
    return start, end


def in_days(
    rows: QuerySet[Any], field: str, date_from: date | None, date_to: date | None
) -> QuerySet[Any]:
    """Rows whose ``field`` (a moment) falls on a local day from ``date_from`` to ``date_to``."""
    start, end = day_bounds(date_from, date_to)
    if start:
        rows = rows.filter(**{f"{field}__gte": start})
    if end:
        rows = rows.filter(**{f"{field}__lt": end})
    return rows


class UrlFilterSet(django_filters.FilterSet):
    """A FilterSet over ``request.GET``: bad values are left out and named in ``problems``."""

    @property
    def values(self) -> dict[str, Any]:
        """Each filter's parsed value; "" or None where it was missing or did not parse."""
        self.form.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        return {
            name: cleaned.get(name, self.form.fields[name].to_python(None)) for name in self.filters
        }

    @property
    def problems(self) -> dict[str, list[str]]:
        """The values that did not parse, each message starting with its field's label."""
        found: dict[str, list[str]] = {}
        for name, messages in self.form.errors.items():
            label = str(self.form.fields[name].label) if name in self.form.fields else ""
            found[name] = [
                str(m) if not label or str(m).startswith(f"{label}:") else f"{label}: {m}"
                for m in messages
            ]
        return found
