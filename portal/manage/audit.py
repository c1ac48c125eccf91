"""Reading the audit log: filters from the URL, a page of events, the CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from portal.lib.filters import DateFilter, TextFilter, UrlFilterSet, in_days
from portal.lib.spreadsheet import csv_safe
from portal.models import AuditEvent

PER_PAGE = 100


class AuditFilterSet(UrlFilterSet):
    actor = TextFilter(
        max_chars=150, field_name="actor_name", lookup_expr="icontains", label="Actor"
    )
    action = TextFilter(max_chars=80, field_name="action", lookup_expr="startswith", label="Action")
    object = TextFilter(max_chars=200, method="about", label="Object")
    date_from = DateFilter(method="in_range", label="From")
    date_to = DateFilter(method="in_range", label="To")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def about(self, rows: QuerySet[AuditEvent], name: str, obj: str) -> QuerySet[AuditEvent]:
        return rows.filter(
            Q(object_id__icontains=obj) | Q(object_label__icontains=obj) | Q(object_type=obj)
        )

    def in_range(self, rows: QuerySet[AuditEvent], name: str, day: date) -> QuerySet[AuditEvent]:
        if name == "date_from":
            return in_days(rows, "at", day, None)
        return in_days(rows, "at", None, day)


def audit_filters(query: QueryDict) -> AuditFilterSet:
    return AuditFilterSet(query, queryset=AuditEvent.objects.order_by("-at", "-id"))


def action_names() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


class _Echo:
    def write(self, value: str) -> str:
        return value


def audit_csv_lines(rows: QuerySet[AuditEvent]) -> Iterator[str]:
    """The events as CSV (UTF-8 with a BOM), streamed."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(
        [
            "When",
            "Actor",
            "Action",
            "Object type",
            "Object id",
            "Object",
            "Before",
            "After",
            "Message",
            "IP",
        ]
    )
    for event in rows.iterator(chunk_size=2000):
        yield writer.writerow(
            csv_safe(value)  # actor names and messages come from anyone, e.g. a login attempt
            for value in [
                timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
                event.actor_name,
                event.action,
                event.object_type,
                event.object_id,
                event.object_label,
                "" if event.before is None else json.dumps(event.before, sort_keys=True),
                "" if event.after is None else json.dumps(event.after, sort_keys=True),
                event.message,
                event.ip or "",
            ]
        )
