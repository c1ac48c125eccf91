"""The grant ledger: one row per portal application and per grant entered in Ninox by hand.

An application's row carries what Ninox and Stripe know about it (matched by reference),
so a grant the portal wrote back to Ninox appears once, on its application's row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import DateField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from grants.models import Application, Decision, NinoxGrant, Payment, Status
from grants.money import CENT
from grants.reports.filters import ReportFilters
from grants.reports.table import DATE, DATETIME, MONEY, NUMBER, TEXT, Column, Row
from grants.selectors.figures import (
    GrantRow,
    application_amounts,
    grant_rows,
    ninox_amounts,
    ninox_only,
    with_grant_facts,
)

CHUNK = 2000  # rows fetched per database round trip while streaming

COLUMNS = (
    Column("reference", "Reference", TEXT, 16),
    Column("fiscal_year", "Fiscal year", TEXT, 11, more=True),
    Column("lodge_number", "Lodge number", NUMBER, 8),
    Column("lodge", "Lodge", TEXT, 28),
    Column("district", "District", TEXT, 12, more=True),
    Column("charity", "Charity", TEXT, 24, more=True),
    Column("purpose", "Purpose", TEXT, 30, more=True),
    Column("submitted", "Submitted", DATE, 11, more=True),
    Column("grant_date", "Grant date", DATE, 11, more=True),
    Column("decision", "Decision", TEXT, 12, more=True),
    Column("decided_by", "Decided by", TEXT, 14, more=True),
    Column("requested", "Requested", MONEY, 12, total=True),
    Column("approved", "Approved", MONEY, 12, total=True),
    Column("paid", "Paid", MONEY, 12, total=True),
    Column("lodge_share", "Lodge share", MONEY, 12, total=True),
    Column("lodge_share_received", "Lodge share received", MONEY, 12, total=True),
    Column("status", "Status", TEXT, 12),
    Column("stripe_session", "Stripe session", TEXT, 24, more=True),
    Column("stripe_payment_intent", "Stripe payment intent", TEXT, 24, more=True),
    Column("paid_at", "Paid at", DATETIME, 17, more=True),
    Column("ninox_record", "Ninox record", NUMBER, 9, more=True),
    Column("write_back", "Write-back", TEXT, 16, more=True),
    Column("source", "Source", TEXT, 8, more=True),
)

NINOX_STATUS = {"Approved": "approved", "Paid": "paid", "Cancelled": "cancelled"}
NOT_IN_NINOX_RECORD = None  # shown as "—": a grant entered in Ninox has no such figure


def _local_date(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment else None


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
    def scoped_applications(self) -> QuerySet[Application]:
        rows = Application.objects.annotate(
            row_date=Coalesce("grant_date", TruncDate("submitted_at"), output_field=DateField()),
        )
        return self.filters.scope(rows, date_from="row_date", date_to="row_date")

    def scoped_grants(self) -> QuerySet[NinoxGrant]:
        f = self.filters
        rows = f.scope(NinoxGrant.objects.all(), status="")  # Ninox names its statuses otherwise:
        if f.status:
            ninox_names = [name for name, code in NINOX_STATUS.items() if code == f.status]
            rows = rows.filter(status__in=ninox_names) if ninox_names else rows.none()
        return rows

    def applications(self) -> QuerySet[Application]:
        latest = Decision.objects.in_force().filter(application=OuterRef("pk"))
        paid = Payment.objects.filter(application=OuterRef("pk"), status=Payment.Status.PAID)
        paid = paid.order_by("-paid_at", "-id")
        in_ninox = NinoxGrant.objects.filter(reference=OuterRef("reference")).order_by("ninox_id")
        rows = with_grant_facts(self.scoped_applications().select_related("lodge")).annotate(
            decision_outcome=Subquery(latest.values("outcome")[:1]),
            decision_by=Subquery(latest.values("decided_by_name")[:1]),
            stripe_session=Subquery(paid.values("stripe_session_id")[:1]),
            stripe_intent=Subquery(paid.values("stripe_payment_intent_id")[:1]),
            stripe_paid_at=Subquery(paid.values("paid_at")[:1]),
            ninox_match=Subquery(in_ninox.values("ninox_id")[:1]),
        )
        return rows.order_by("reference")

    def ninox_only(self) -> QuerySet[NinoxGrant]:
        """Grants in Ninox that no portal application stands for (entered by hand)."""
        return (
            ninox_only(self.scoped_grants())
            .select_related("lodge")
            .order_by("grant_date", "ninox_id")
        )

    def count(self) -> int:
        return self.applications().count() + self.ninox_only().count()

    # --- rows --------------------------------------------------------------------
    def rows(self) -> Iterator[Row]:
        for application in self.applications().iterator(chunk_size=CHUNK):
            yield self.application_row(application)
        for grant in self.ninox_only().iterator(chunk_size=CHUNK):
            yield self.ninox_row(grant)

    def figures(self) -> Iterator[GrantRow]:
        """The rows' figures only (for the summary and the chart), by `grants.selectors.figures`."""
        return grant_rows(self.scoped_applications(), self.scoped_grants())

    def application_row(self, a: Any) -> Row:
        lodge = a.lodge
        approved, paid = application_amounts(
            status=a.status,
            amount_requested=a.amount_requested,
            match_released=a.match_released,
            in_ninox=a.in_ninox,
            ninox_amount=a.ninox_amount,
            ninox_paid=a.ninox_paid,
        )
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
            "paid": paid,
            "lodge_share": a.amount_raised,
            "lodge_share_received": (
                a.share_received.quantize(CENT) - a.refunded_share
                if a.share_received is not None
                else None
            ),
            "status": Status(a.status).label,
            "stripe_session": a.stripe_session or "",
            "stripe_payment_intent": a.stripe_intent or "",
            "paid_at": _local_naive(a.stripe_paid_at or a.paid_at),
            "ninox_record": ninox_id,
            "write_back": _write_back_state(a, ninox_id),
            "source": "portal",
        }

    def ninox_row(self, g: NinoxGrant) -> Row:
        lodge = g.lodge
        approved, paid = ninox_amounts(status=g.status, amount=g.amount)
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
            "requested": NOT_IN_NINOX_RECORD,
            "approved": approved,
            "paid": paid,
            "lodge_share": NOT_IN_NINOX_RECORD,
            "lodge_share_received": NOT_IN_NINOX_RECORD,
            "status": g.status,
            "stripe_session": "",
            "stripe_payment_intent": "",
            "paid_at": _local_naive(g.paid_at),
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
