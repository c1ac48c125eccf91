"""Sync handlers that mirror Ninox's Lodges and Grants tables into ``Lodge`` and ``NinoxGrant``.

Registered with ``ninox_backend.mirror`` when the app is ready. Field names come from
the mapping (``NINOX_SCHEMA``), never from this file. Handlers are idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from grants.models import Lodge, NinoxGrant
from grants.rules import fiscal_year_of, rules_in_force
from ninox_backend.connection import mapping
from ninox_backend.types import Record

BATCH = 500


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def _int(value: Any) -> int | None:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        return None


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        return Decimal("0.00")


class LodgeHandler:
    def __init__(self) -> None:
        self.fields = mapping()["lodges"]

    def upsert(self, records: list[Record]) -> None:
        f = self.fields.field
        rows = []
        for record in records:
            number = _int(record.get(f("number")))
            if number is None:
                continue  # a lodge without a number cannot apply; nothing to mirror
            rows.append(
                Lodge(
                    ninox_id=record.id,
                    number=number,
                    name=_text(record.get(f("name")), 200) or f"Lodge {number}",
                    district=_text(record.get(f("district")), 100),
                    city=_text(record.get(f("city")), 100),
                    secretary=_text(record.get(f("secretary")), 200),
                    secretary_email=_text(record.get(f("secretary_email")), 254),
                    active=bool(record.get(f("active"), False)),
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
                    ],
                )
            # Grants that arrived before their lodge find it now.
            _link_grants(record.id for record in records)

    def delete(self, ids: list[int]) -> None:
        # A lodge with applications is kept (they are protected); it stops being offered.
        with transaction.atomic():
            Lodge.objects.filter(ninox_id__in=ids, applications__isnull=True).delete()
            Lodge.objects.filter(ninox_id__in=ids).update(active=False)

    def ids(self) -> Iterable[int]:
        return Lodge.objects.values_list("ninox_id", flat=True)


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

    def upsert(self, records: list[Record]) -> None:
        f = self.fields.field
        lodge_refs = {_int(r.get(f("lodge"))) for r in records} - {None}
        lodges = dict(Lodge.objects.filter(ninox_id__in=lodge_refs).values_list("ninox_id", "id"))
        rows = []
        for record in records:
            lodge_ref = _int(record.get(f("lodge")))
            grant_date = record.get(f("grant_date"))
            if not isinstance(grant_date, date):
                grant_date = None
            paid_at = record.get(f("paid_at"))
            rows.append(
                NinoxGrant(
                    ninox_id=record.id,
                    lodge_id=lodges.get(lodge_ref) if lodge_ref is not None else None,
                    lodge_ninox_id=lodge_ref,
                    reference=_text(record.get(f("reference")), 40).strip(),
                    amount=_money(record.get(f("amount"))),
                    grant_date=grant_date,
                    fiscal_year=fiscal_year_of(grant_date, self.rules).key if grant_date else None,
                    charity=_text(record.get(f("charity")), 200),
                    purpose=_text(record.get(f("purpose")), 5000),
                    status=_text(record.get(f("status")), 40),
                    paid_at=paid_at if isinstance(paid_at, datetime) else None,
                    payment=_text(record.get(f("payment")), 200),
                )
            )
        fields = [
            "lodge", "lodge_ninox_id", "reference", "amount", "grant_date", "fiscal_year",
            "charity", "purpose", "status", "paid_at", "payment",
        ]  # fmt: skip
        with transaction.atomic():
            for start in range(0, len(rows), BATCH):
                NinoxGrant.objects.bulk_create(
                    rows[start : start + BATCH],
                    update_conflicts=True,
                    unique_fields=["ninox_id"],
                    update_fields=fields,
                )

    def delete(self, ids: list[int]) -> None:
        NinoxGrant.objects.filter(ninox_id__in=ids).delete()

    def ids(self) -> Iterable[int]:
        return NinoxGrant.objects.values_list("ninox_id", flat=True)
