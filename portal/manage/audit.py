"""Reading the audit log: filters from the URL, a page of events, the CSV export."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from portal.lib.spreadsheet import csv_safe
from portal.models import AuditEvent

PER_PAGE = 100


@dataclass
class AuditFilters:
    actor: str = ""
    action: str = ""
    obj: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: QueryDict) -> AuditFilters:
        errors: dict[str, list[str]] = {}
        dates: dict[str, date | None] = {}
        for name, label in (("date_from", "From"), ("date_to", "To")):
            raw = query.get(name, "").strip()
            dates[name] = None
            if raw:
                try:
                    dates[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = [f"{label}: enter a date like 2026-05-01."]
        return cls(
            actor=query.get("actor", "").strip()[:150],
            action=query.get("action", "").strip()[:80],
            obj=query.get("object", "").strip()[:200],
            date_from=dates["date_from"],
            date_to=dates["date_to"],
            errors=errors,
        )

    def queryset(self) -> QuerySet[AuditEvent]:
        rows = AuditEvent.objects.all()
        if self.actor:
            rows = rows.filter(actor_name__icontains=self.actor)
        if self.action:
            rows = rows.filter(action__startswith=self.action)
        if self.obj:
            rows = rows.filter(
                Q(object_id__icontains=self.obj)
                | Q(object_label__icontains=self.obj)
                | Q(object_type=self.obj)
            )
        zone = timezone.get_current_timezone()
        if self.date_from:
            rows = rows.filter(at__gte=datetime.combine(self.date_from, time.min, zone))
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time.min, zone)
            rows = rows.filter(at__lt=end)
        return rows.order_by("-at", "-id")


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
