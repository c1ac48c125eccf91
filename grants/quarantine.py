"""Ninox records whose budget fields could not be read: kept aside, shown, never counted as $0.

The sync handlers (``grants/sync_handlers.py``) type-check the fields a lodge's budget
rests on. A value of the wrong shape (a link that arrived as a caption, a date still a
number, an amount that is not a number) opens a :class:`NinoxQuarantine` row with the
raw value; the next clean read of that record resolves it. While a row is open,
``quarantine_doubts`` gives the reason a decision must go to a person instead: for the
lodge it belongs to, or for every lodge when the grant's lodge itself cannot be read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from grants.models import Lodge, NinoxQuarantine
from ninox_backend.types import dumps

logger = logging.getLogger("grants")

# Reasons named one by one in a decision; beyond that they are counted.
REASONS_NAMED = 3


@dataclass(frozen=True)
class Unreadable:
    """One budget field of one Ninox record that could not be read."""

    ninox_id: int
    field: str  # the Ninox field's name
    value: Any  # as the client handed it over
    reason: str  # "is text ('Kilwinning No. 123'), not a link to a Lodges record"
    lodge_ninox_id: int | None  # the lodge it belongs to, if that much could be read


def raw_json(value: Any) -> str:
    """The value as JSON text for staff to read (exact decimals; anything else as text)."""
    if isinstance(value, float):
        return repr(value)  # JSON's own spelling of it (our writer refuses floats)
    try:
        return dumps(value)[:2000]
    except (TypeError, ValueError):
        return dumps(repr(value))[:2000]


def quarantine_record_reads(
    *, table: str, ids: Iterable[int], unreadable: Sequence[Unreadable]
) -> None:
    """After reading records ``ids`` of ``table``: open or refresh a row per unreadable
    value, and resolve the open rows of those records that read cleanly this time."""
    now = timezone.now()
    ids = set(ids)
    bad = {(u.ninox_id, u.field): u for u in unreadable}
    open_rows = NinoxQuarantine.objects.filter(
        table=table, ninox_id__in=ids, resolved_at__isnull=True
    ).values_list("id", "ninox_id", "field")
    clean = [row_id for row_id, ninox_id, field in open_rows if (ninox_id, field) not in bad]
    if clean:
        NinoxQuarantine.objects.filter(id__in=clean).update(resolved_at=now)
        logger.info("Ninox %s: %d quarantined value(s) now read cleanly", table, len(clean))
    for (ninox_id, field), problem in bad.items():
        values = {
            "raw_value": raw_json(problem.value),
            "reason": problem.reason[:300],
            "lodge_ninox_id": problem.lodge_ninox_id,
            "last_seen": now,
        }
        row = NinoxQuarantine.objects.filter(table=table, ninox_id=ninox_id, field=field).first()
        if row is None:
            NinoxQuarantine.objects.create(
                table=table, ninox_id=ninox_id, field=field, first_seen=now, **values
            )
        else:
            if row.resolved_at is not None:
                values.update(first_seen=now, resolved_at=None)
            NinoxQuarantine.objects.filter(id=row.id).update(**values)
        if row is None or row.resolved_at is not None:
            logger.warning(
                "Ninox %s record %s quarantined: %s %s", table, ninox_id, field, problem.reason
            )


def quarantine_resolve_deleted(*, table: str, ids: Iterable[int]) -> None:
    """Records deleted in Ninox can no longer be wrong."""
    NinoxQuarantine.objects.filter(
        table=table, ninox_id__in=list(ids), resolved_at__isnull=True
    ).update(resolved_at=timezone.now())


def open_quarantines(*, lodge: Lodge | None = None) -> QuerySet[NinoxQuarantine]:
    """Open rows, newest first; with ``lodge``, those touching its budget (its own and
    those whose lodge could not be read)."""
    rows = NinoxQuarantine.objects.filter(resolved_at__isnull=True)
    if lodge is not None:
        rows = rows.filter(Q(lodge_ninox_id__isnull=True) | Q(lodge_ninox_id=lodge.ninox_id))
    return rows.order_by("-last_seen", "table", "ninox_id", "field")


def describe(row: NinoxQuarantine) -> str:
    """One sentence a reviewer can act on."""
    text = f"Ninox {row.table} record {row.ninox_id}: {row.field} {row.reason}"
    if row.lodge_ninox_id is None:
        text += " (its lodge cannot be read, so it could belong to any lodge)"
    return text


def quarantine_touching(lodge_id: int | None) -> QuerySet[NinoxQuarantine]:
    """The open rows that touch this lodge's budget (every open row for ``None``)."""
    rows = NinoxQuarantine.objects.filter(resolved_at__isnull=True)
    if lodge_id is not None:
        lodge_ninox_id = Lodge.objects.filter(id=lodge_id).values("ninox_id")  # a subquery
        rows = rows.filter(Q(lodge_ninox_id__isnull=True) | Q(lodge_ninox_id__in=lodge_ninox_id))
    return rows


def quarantine_doubts(lodge_id: int | None) -> list[str]:
    """Reasons from quarantined Ninox records that touch this lodge's budget.

    A grant whose lodge cannot be read touches every lodge (fail safe), and so does
    any open row when the lodge itself is unknown (``lodge_id`` None).
    """
    rows = quarantine_touching(lodge_id)
    found = list(rows.order_by("lodge_ninox_id", "table", "ninox_id", "field")[: REASONS_NAMED + 1])
    if not found:
        return []
    total = len(found) if len(found) <= REASONS_NAMED else rows.count()
    reasons = [describe(row) for row in found[:REASONS_NAMED]]
    if total > REASONS_NAMED:
        reasons.append(f"{total - REASONS_NAMED} more Ninox value(s) could not be read")
    return reasons
