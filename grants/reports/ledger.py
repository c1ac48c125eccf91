"""The grant ledger: one row per portal application and per grant entered in Ninox by hand.

An application's row carries what Ninox and Stripe know about it (matched by reference),
so a grant the portal wrote back to Ninox appears once, on its application's row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import DateField, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from grants.models import RESERVING, Application, Decision, NinoxGrant, Payment, Status
from grants.money import ZERO
from grants.reports.filters import ReportFilters
from grants.reports.table import DATE, DATETIME, MONEY, NUMBER, TEXT, Column, Row

CHUNK = 2000  # rows fetched per database round trip while streaming

COLUMNS = (
    Column("reference", "Reference", TEXT, 16),
    Column("fiscal_year", "Fiscal year", TEXT, 11),
    Column("lodge_number", "Lodge number", NUMBER, 8),
    Column("lodge", "Lodge", TEXT, 28),
    Column("district", "District", TEXT, 12),
    Column("charity", "Charity", TEXT, 24),
    Column("purpose", "Purpose", TEXT, 30),
    Column("submitted", "Submitted", DATE, 11),
    Column("grant_date", "Grant date", DATE, 11),
    Column("decision", "Decision", TEXT, 12),
    Column("decided_by", "Decided by", TEXT, 14),
    Column("requested", "Requested", MONEY, 12, total=True),
    Column("approved", "Approved", MONEY, 12, total=True),
    Column("lodge_share", "Lodge share", MONEY, 12, total=True),
    Column("foundation_match", "Foundation match", MONEY, 12, total=True),
    Column("status", "Status", TEXT, 12),
    Column("stripe_session", "Stripe session", TEXT, 24),
    Column("stripe_payment_intent", "Stripe payment intent", TEXT, 24),
    Column("paid_at", "Paid at", DATETIME, 17),
    Column("amount_paid", "Amount paid", MONEY, 12, total=True),
    Column("ninox_record", "Ninox record", NUMBER, 9),
    Column("write_back", "Write-back", TEXT, 16),
    Column("source", "Source", TEXT, 8),
)

NINOX_STATUS = {"Approved": "approved", "Paid": "paid", "Cancelled": "cancelled"}


@dataclass(frozen=True)
class LedgerRow:
    """The figures of one row that the summary and the chart add up."""

    lodge_id: int | None
    lodge_number: int | None
    lodge_name: str
    district: str
    status: str
    approved: Decimal  # the match approved (0 unless approved or paid; Ninox: not cancelled)
    paid: Decimal  # the match paid out (the approved match once the lodge's share is paid)
    grant_date: date | None
    paid_on: date | None


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment else None


# What a ledger row's figures are read from, besides its amount.
_FIGURE_FIELDS = (
    "lodge_id",
    "lodge__number",
    "lodge__name",
    "lodge__district",
    "status",
    "grant_date",
    "paid_at",
)


def _figure_values(rows: QuerySet[Any], amount_field: str) -> Iterator[dict[str, Any]]:
    """The figure fields and ``amount_field`` of ``rows``, streamed."""
    return rows.values(*_FIGURE_FIELDS, amount_field).iterator(chunk_size=CHUNK)


def _ledger_row(
    values: dict[str, Any], *, status: str, approved: Decimal, paid: Decimal, paid_on: date | None
) -> LedgerRow:
    return LedgerRow(
        lodge_id=values["lodge_id"],
        lodge_number=values["lodge__number"],
        lodge_name=values["lodge__name"] or "",
        district=values["lodge__district"] or "",
        status=status,
        approved=approved,
        paid=paid,
        grant_date=values["grant_date"],
        paid_on=paid_on,
    )


def _local_naive(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


class Ledger:
    slug = "ledger"
    title = "Grant ledger"
    columns: tuple[Column, ...] = COLUMNS

    def __init__(self, filters: ReportFilters) -> None:
        self.filters = filters
        self.fy_label = filters.fy.label

    # --- queries ---------------------------------------------------------------
    def applications(self) -> QuerySet[Application]:
        f = self.filters
        latest = Decision.objects.filter(application=OuterRef("pk")).order_by("-created_at", "-id")
        paid = Payment.objects.filter(application=OuterRef("pk"), status=Payment.Status.PAID)
        paid = paid.order_by("-paid_at", "-id")
        in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference")).order_by("ninox_id")
        rows = Application.objects.select_related("lodge").annotate(
            decision_outcome=Subquery(latest.values("outcome")[:1]),
            decision_by=Subquery(latest.values("decided_by_name")[:1]),
            stripe_session=Subquery(paid.values("stripe_session_id")[:1]),
            stripe_intent=Subquery(paid.values("stripe_payment_intent_id")[:1]),
            stripe_amount=Subquery(paid.values("amount")[:1]),
            stripe_paid_at=Subquery(paid.values("paid_at")[:1]),
            ninox_match=Subquery(in_ninox.values("ninox_id")[:1]),
            row_date=Coalesce("grant_date", TruncDate("submitted_at"), output_field=DateField()),
        )
        rows = f.scope(rows, date_from="row_date", date_to="row_date")
        return rows.order_by("reference")

    def ninox_only(self) -> QuerySet[NinoxGrant]:
        """Grants in Ninox that no portal application stands for (entered by hand)."""
        f = self.filters
        portal = Application.objects.values("reference")
        rows = NinoxGrant.objects.exclude(reference__in=portal).select_related("lodge")
        rows = f.scope(rows, status="")  # Ninox names its statuses otherwise:
        if f.status:
            ninox_names = [name for name, code in NINOX_STATUS.items() if code == f.status]
            rows = rows.filter(status__in=ninox_names) if ninox_names else rows.none()
        return rows.order_by("grant_date", "ninox_id")

    def count(self) -> int:
        return self.applications().count() + self.ninox_only().count()

    # --- rows --------------------------------------------------------------------
    def rows(self) -> Iterator[Row]:
        for application in self.applications().iterator(chunk_size=CHUNK):
            yield self.application_row(application)
        for grant in self.ninox_only().iterator(chunk_size=CHUNK):
            yield self.ninox_row(grant)

    def figures(self) -> Iterator[LedgerRow]:
        """The rows' figures only (for the summary and the chart), streamed the same way."""
        # The match that stays: a refund releases part or all of it.
        kept = self.applications().annotate(kept=F("amount_requested") - F("match_released"))
        for values in _figure_values(kept, "kept"):
            status, amount = values["status"], values["kept"]
            is_paid = status == Status.PAID
            yield _ledger_row(
                values,
                status=status,
                approved=amount if status in RESERVING else ZERO,
                paid=amount if is_paid else ZERO,
                paid_on=_local_date(values["paid_at"]) if is_paid else None,
            )
        for values in _figure_values(self.ninox_only(), "amount"):
            status, amount = values["status"], values["amount"]
            counts = status != NinoxGrant.CANCELLED
            is_paid = counts and status == "Paid"
            yield _ledger_row(
                values,
                status=NINOX_STATUS.get(status, status.lower()),
                approved=amount if counts else ZERO,
                paid=amount if is_paid else ZERO,
                paid_on=(_local_date(values["paid_at"]) or values["grant_date"])
                if is_paid
                else None,
            )

    def application_row(self, a: Any) -> Row:
        lodge = a.lodge
        approved = a.match_kept if a.status in RESERVING else ZERO  # less what refunds released
        ninox_id = a.ninox_record_id or a.ninox_match
        return {
            "reference": a.reference,
            "fiscal_year": self.fy_label,
            "lodge_number": a.lodge_number,
            "lodge": lodge.name if lodge else "",
            "district": lodge.district if lodge else "",
            "charity": a.charity_name,
            "purpose": a.purpose,
            "submitted": _local_date(a.submitted_at),
            "grant_date": a.grant_date,
            "decision": Decision.Outcome(a.decision_outcome).label if a.decision_outcome else "",
            "decided_by": a.decision_by or "",
            "requested": a.amount_requested,
            "approved": approved,
            "lodge_share": a.amount_raised,
            "foundation_match": approved,
            "status": Status(a.status).label,
            "stripe_session": a.stripe_session or "",
            "stripe_payment_intent": a.stripe_intent or "",
            "paid_at": _local_naive(a.stripe_paid_at or a.paid_at),
            "amount_paid": a.stripe_amount if a.stripe_amount is not None else ZERO,
            "ninox_record": ninox_id,
            "write_back": _write_back_state(a, ninox_id),
            "source": "portal",
        }

    def ninox_row(self, g: NinoxGrant) -> Row:
        lodge = g.lodge
        counts = g.status != NinoxGrant.CANCELLED
        approved = g.amount if counts else ZERO
        return {
            "reference": g.reference,
            "fiscal_year": self.fy_label,
            "lodge_number": lodge.number if lodge else None,
            "lodge": lodge.name if lodge else "",
            "district": lodge.district if lodge else "",
            "charity": g.charity,
            "purpose": g.purpose,
            "submitted": None,
            "grant_date": g.grant_date,
            "decision": "",
            "decided_by": "",
            "requested": ZERO,
            "approved": approved,
            "lodge_share": ZERO,
            "foundation_match": approved,
            "status": g.status,
            "stripe_session": "",
            "stripe_payment_intent": "",
            "paid_at": _local_naive(g.paid_at),
            "amount_paid": ZERO,
            "ninox_record": g.ninox_id,
            "write_back": "entered in Ninox",
            "source": "ninox",
        }


def _write_back_state(application: Any, ninox_id: int | None) -> str:
    if application.written_back_at:
        return "written"
    if ninox_id:
        return "in Ninox"
    if application.status == Status.PAID:
        return "pending"
    return ""


def time_zone_note() -> str:
    return f"Times are local ({settings.TIME_ZONE})."
