"""The filters on applications that the review queue and the finance reports share."""

from __future__ import annotations

from grants.models import Application, Status
from portal.lib.filters import ChoiceFilter, TextFilter, UrlFilterSet


class ApplicationFilterSet(UrlFilterSet):
    """Status and district, declared once; the queue and the reports add their own."""

    status = ChoiceFilter(
        choices=Status.choices,
        field_name="status",
        label="Status",
        error_messages={"invalid_choice": "%(value)s is not a status."},
    )
    district = TextFilter(max_chars=100, field_name="lodge__district", label="District")

    class Meta:
        model = Application
        fields: list[str] = []
