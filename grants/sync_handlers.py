"""Sync handlers that mirror Ninox's Lodges and Grants tables into ``Lodge`` and ``NinoxGrant``.

Registered with ``ninox_backend.ninox.mirror`` when the app is ready. Field names come from
the mapping (``NINOX_SCHEMA``), never from this file. Handlers are idempotent.

The fields a lodge's budget rests on (Lodges: Number, Active; Grants: Lodge, Amount,
Grant Date, Status, Reference) are type-checked whenever Ninox sends them (it leaves
empty fields out). A value of the wrong shape is never read as "no lodge" or $0: the
record goes into the quarantine (``grants/quarantine.py``) and its grant leaves the
mirror until a clean read, so decisions for the lodges it touches go to a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from grants.models import Lodge, NinoxGrant
from grants.quarantine import Unreadable, quarantine_record_reads, quarantine_resolve_deleted
from grants.rules import fiscal_year_of, rules_in_force
from ninox_backend.ninox.connection import mapping
from ninox_backend.types import Record

BATCH = 500
CENT = Decimal("0.01")
ACTIVE_EMPTY = "Active is empty in Ninox"
ACTIVE_UNREADABLE = "Active could not be read in Ninox"
DELETED = "the lodge was deleted in Ninox"


class WrongShape(ValueError):
    """A present value that is not what the budget needs; the message says what it is."""


def shape_of(value: Any) -> str:
    """What a value is ("text", "a number", "a list of 2"), never the value itself: the
    reason may reach a decision's explanation, and the value may be another lodge's."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, int | Decimal | float):
        return "a number"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def strict_record_id(value: Any) -> int:
    """A link to another record: its id, an integer (the client's conversion made it one)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise WrongShape(f"is {shape_of(value)}, not a link to a record")


def strict_money(value: Any) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value.quantize(CENT)
    raise WrongShape(f"is {shape_of(value)}, not an amount")


def strict_whole_number(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral() > 0:
        return int(value)
    raise WrongShape(f"is {shape_of(value)}, not a whole number above 0")


def strict_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise WrongShape(f"is {shape_of(value)}, not a date")


def strict_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise WrongShape(f"is {shape_of(value)}, not text")


def strict_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise WrongShape(f"is {shape_of(value)}, not yes/no")


class LodgeHandler:
    def __init__(self) -> None:
        self.fields = mapping()["lodges"]

    def upsert(self, records: list[Record]) -> None:
        f = self.fields.field
        rows = []
        unreadable: list[Unreadable] = []

        def problem(record: Record, field: str, exc: WrongShape) -> None:
            value = record.get(field)
            unreadable.append(Unreadable(record.id, field, value, str(exc), record.id))

        for record in records:
            raw_number = record.get(f("number"))
            if raw_number is None:
                continue  # a lodge without a number cannot apply; nothing to mirror
            try:
                number = strict_whole_number(raw_number)
            except WrongShape as exc:
                problem(record, f("number"), exc)
                continue  # the last clean read (if any) stays; its applications go to a person
            raw_active = record.get(f("active"))
            inactive_reason = ""
            if raw_active is None:
                active, inactive_reason = False, ACTIVE_EMPTY
            else:
                try:
                    active = strict_boolean(raw_active)
                except WrongShape as exc:
                    problem(record, f("active"), exc)
                    active, inactive_reason = False, ACTIVE_UNREADABLE
            rows.append(
                Lodge(
                    ninox_id=record.id,
                    number=number,
                    name=_text(record.get(f("name")), 200) or f"Lodge {number}",
                    district=_text(record.get(f("district")), 100),
                    city=_text(record.get(f("city")), 100),
                    secretary=_text(record.get(f("secretary")), 200),
                    secretary_email=_text(record.get(f("secretary_email")), 254),
                    active=active,
                    inactive_reason=inactive_reason,
                    ninox_sequence=record.sequence,
                )
            )
        with transaction.atomic():
            for start in range(0, len(rows), BATCH):
                Lodge.objects.bulk_create(
                    rows[start : start + BATCH],
                    update_conflicts=True,
                    unique_fields=["ninox_id"],
                    update_fields=[
                        "number",
                        "name",
                        "district",
                        "city",
                        "secretary",
                        "secretary_email",
                        "active",
                        "inactive_reason",
                        "ninox_sequence",
                    ],
                )
            # Grants that arrived before their lodge find it now.
            _link_grants(record.id for record in records)
            quarantine_record_reads(
                table=self.fields.name, ids=(r.id for r in records), unreadable=unreadable
            )

    def delete(self, ids: list[int]) -> None:
        # A lodge with applications is kept (they are protected); it stops being offered.
        with transaction.atomic():
            Lodge.objects.filter(ninox_id__in=ids, applications__isnull=True).delete()
            Lodge.objects.filter(ninox_id__in=ids).update(active=False, inactive_reason=DELETED)
            quarantine_resolve_deleted(table=self.fields.name, ids=ids)

    def ids(self) -> Iterable[int]:
        return Lodge.objects.values_list("ninox_id", flat=True)

    def sequences(self) -> Mapping[int, int | None]:
        """Each mirrored lodge's Ninox sequence (the daily reconciliation re-reads newer ones)."""
        return dict(Lodge.objects.values_list("ninox_id", "ninox_sequence"))


def _link_grants(lodge_ninox_ids: Iterable[int]) -> None:
    ids = list(lodge_ninox_ids)
    lodges = dict(Lodge.objects.filter(ninox_id__in=ids).values_list("ninox_id", "id"))
    for ninox_id, lodge_id in lodges.items():
        NinoxGrant.objects.filter(lodge_ninox_id=ninox_id, lodge__isnull=True).update(
            lodge_id=lodge_id
        )


class GrantHandler:
    def __init__(self) -> None:
        self.fields = mapping()["grants"]
        self.rules = rules_in_force()
        self._comparison: Any = None

    def full_read_fetched(self, records: list[Record]) -> None:
        """The workspace API's full read has every grant, the mirror is unchanged: the drift
        check compares each lodge's FY total (``grants.drift.FullReadComparison``)."""
        from grants.drift import FullReadComparison  # drift imports the mirror that imports us

        self._comparison = FullReadComparison()
        self._comparison.fetched(records)

    def full_read_applied(self) -> None:
        """The full read updated the mirror: the comparison checks the lodges that differed."""
        if self._comparison is not None:
            self._comparison.applied()
            self._comparison = None

    def _read(self, record: Record, unreadable: list[Unreadable]) -> dict[str, Any] | None:
        """The budget fields of one record, or None (and why, in ``unreadable``)."""
        f = self.fields.field
        problems: list[tuple[str, Any, str]] = []
        lodge_ref: int | None = None

        def read(key: str, check: Any, *, required: str = "") -> Any:
            name = f(key)
            value = record.get(name)
            if value is None:
                if required:
                    problems.append((name, None, required))
                return None
            try:
                return check(value)
            except WrongShape as exc:
                problems.append((name, value, str(exc)))
                return None

        lodge_ref = read(
            "lodge", strict_record_id, required="is empty: every grant needs its lodge"
        )
        values = {
            "lodge_ref": lodge_ref,
            "amount": read("amount", strict_money, required="is empty: a grant needs its amount"),
            "grant_date": read("grant_date", strict_date),
            "status": read("status", strict_text) or "",
            "reference": (read("reference", strict_text) or "").strip()[:40],
        }
        if problems:
            unreadable.extend(
                Unreadable(record.id, name, value, reason, lodge_ref)
                for name, value, reason in problems
            )
            return None
        return values

    def upsert(self, records: list[Record]) -> None:
        f = self.fields.field
        unreadable: list[Unreadable] = []
        readable = [(record, self._read(record, unreadable)) for record in records]
        lodge_refs = {v["lodge_ref"] for _, v in readable if v is not None}
        lodges = dict(Lodge.objects.filter(ninox_id__in=lodge_refs).values_list("ninox_id", "id"))
        rows = []
        for record, values in readable:
            if values is None:
                continue
            grant_date = values["grant_date"]
            paid_at = record.get(f("paid_at"))
            rows.append(
                NinoxGrant(
                    ninox_id=record.id,
                    lodge_id=lodges.get(values["lodge_ref"]),
                    lodge_ninox_id=values["lodge_ref"],
                    reference=values["reference"],
                    amount=values["amount"],
                    grant_date=grant_date,
                    fiscal_year=fiscal_year_of(grant_date, self.rules).key if grant_date else None,
                    charity=_text(record.get(f("charity")), 200),
                    purpose=_text(record.get(f("purpose")), 5000),
                    status=values["status"][:40],
                    paid_at=paid_at if isinstance(paid_at, datetime) else None,
                    payment=_text(record.get(f("payment")), 200),
                    ninox_sequence=record.sequence,
                )
            )
        fields = [
            "lodge", "lodge_ninox_id", "reference", "amount", "grant_date", "fiscal_year",
            "charity", "purpose", "status", "paid_at", "payment", "ninox_sequence",
        ]  # fmt: skip
        with transaction.atomic():
            for start in range(0, len(rows), BATCH):
                NinoxGrant.objects.bulk_create(
                    rows[start : start + BATCH],
                    update_conflicts=True,
                    unique_fields=["ninox_id"],
                    update_fields=fields,
                )
            if unreadable:
                # What the mirror held for them is no longer what Ninox says: out, until readable.
                NinoxGrant.objects.filter(ninox_id__in={u.ninox_id for u in unreadable}).delete()
            quarantine_record_reads(
                table=self.fields.name, ids=(r.id for r in records), unreadable=unreadable
            )

    def delete(self, ids: list[int]) -> None:
        with transaction.atomic():
            NinoxGrant.objects.filter(ninox_id__in=ids).delete()
            quarantine_resolve_deleted(table=self.fields.name, ids=ids)

    def ids(self) -> Iterable[int]:
        return NinoxGrant.objects.values_list("ninox_id", flat=True)

    def ids_where(self, filters: Mapping[str, Any]) -> Iterable[int] | None:
        """The mirrored grants of the lodge a scoped read asks for (``{lodge field: id}``),
        so the workspace sync notices a read that lacks any of them; None for any other scope."""
        lodge = self.fields.field("lodge")
        if set(filters) != {lodge}:
            return None
        return NinoxGrant.objects.filter(lodge_ninox_id=filters[lodge]).values_list(
            "ninox_id", flat=True
        )

    def sequences(self) -> Mapping[int, int | None]:
        """Each mirrored grant's Ninox sequence (the daily reconciliation re-reads newer ones).

        A quarantined grant is not in the mirror, so the reconciliation reads it again too.
        """
        return dict(NinoxGrant.objects.values_list("ninox_id", "ninox_sequence"))
