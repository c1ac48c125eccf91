"""Payment reconciliation: Stripe payments vs portal applications vs Ninox grants.

Each mismatch is its own row saying what differs. Each refunded payment has a row too:
a refund mismatch when Stripe, the portal or Ninox disagree, else "Refund reflected
everywhere" with the three figures, so finance sees every refund of the year here. Grants
entered in Ninox by hand (no reference) are not mismatches: they never went through the
portal or Stripe; nor are grants dated before the portal's first application (history
from before it).

Its totals row counts the findings and adds up no money: a payment can have several
findings, so a sum would count it more than once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from grants.models import Application, NinoxGrant, Payment, Status
from grants.money import ZERO, format_money
from grants.reports.filters import ReportFilters
from grants.reports.table import DATETIME, MONEY, NUMBER, TEXT, Column, Row
from portal.lib.filters import day_bounds, in_days

COLUMNS = (
    Column("mismatch", "Finding", TEXT, 30),
    Column("reference", "Reference", TEXT, 16),
    Column("lodge_number", "Lodge number", NUMBER, 8),
    Column("stripe_session", "Stripe session", TEXT, 24, more=True),
    Column("stripe_paid_at", "Stripe paid at", DATETIME, 17, more=True),
    Column("stripe_amount", "Stripe amount", MONEY, 12),
    Column("stripe_refunded", "Stripe refunded", MONEY, 12),
    Column("portal_status", "Portal status", TEXT, 12, more=True),
    Column("lodge_share", "Lodge share", MONEY, 12),
    Column("portal_match", "Portal match", MONEY, 12),
    Column("match_kept", "Match that stays", MONEY, 12),
    Column("ninox_record", "Ninox record", NUMBER, 9, more=True),
    Column("ninox_status", "Ninox status", TEXT, 11, more=True),
    Column("ninox_amount", "Ninox amount", MONEY, 12),
    Column("what_differs", "What differs", TEXT, 60),
)

# Mismatch kinds: the code (tests, filters) and the label in the first column.
PAID_NOT_IN_NINOX = "Paid in Stripe, not in Ninox"
STRIPE_AMOUNT_DIFFERS = "Stripe amount differs from the lodge share"
STRIPE_PAID_PORTAL_NOT = "Paid in Stripe, not paid in the portal"
PAYMENT_WITHOUT_APPLICATION = "Stripe payment for no application"
PORTAL_PAID_WITHOUT_PAYMENT = "Paid in the portal without a Stripe payment"
NINOX_WITHOUT_PAYMENT = "In Ninox without a payment"
NINOX_UNKNOWN_REFERENCE = "In Ninox, unknown to the portal"
NINOX_AMOUNT_DIFFERS = "Ninox amount differs from the portal"
NINOX_STATUS_DIFFERS = "Ninox status differs from the portal"
REFUND_NOT_IN_NINOX = "Refund not reflected in Ninox"
REFUND_NOT_IN_PORTAL = "Stripe refunded more than the portal released"
REFUND_AGREES = "Refund reflected everywhere"  # not a mismatch: the refund, shown
KINDS = (
    PAID_NOT_IN_NINOX,
    STRIPE_AMOUNT_DIFFERS,
    STRIPE_PAID_PORTAL_NOT,
    PAYMENT_WITHOUT_APPLICATION,
    PORTAL_PAID_WITHOUT_PAYMENT,
    NINOX_WITHOUT_PAYMENT,
    NINOX_UNKNOWN_REFERENCE,
    NINOX_AMOUNT_DIFFERS,
    NINOX_STATUS_DIFFERS,
    REFUND_NOT_IN_NINOX,
    REFUND_NOT_IN_PORTAL,
    REFUND_AGREES,
)
# The Ninox status that matches each portal status (others: no expectation).
EXPECTED_NINOX_STATUS = {
    Status.PAID: "Paid",
    Status.CANCELLED: NinoxGrant.CANCELLED,
    Status.EXPIRED: NinoxGrant.CANCELLED,
    Status.REFUNDED: NinoxGrant.CANCELLED,
}
# Portal statuses that a paid Stripe payment agrees with.
PAID_IN_PORTAL = (Status.PAID, Status.REFUNDED)


def _money(amount: Decimal | None) -> str:
    return format_money(amount) if amount is not None else "none"


def _ninox_should_hold(status: str, match: Decimal, released: Decimal | None) -> Decimal:
    """The match Ninox's row should hold: what stays after refunds (a full refund keeps the
    whole match, marked Cancelled)."""
    return match if status == Status.REFUNDED else match - (released or ZERO)


class Reconciliation:
    slug = "reconciliation"
    title = "Payment reconciliation"
    row_noun = "finding"  # the totals row counts them (nothing here adds up)
    columns: tuple[Column, ...] = COLUMNS

    def __init__(self, filters: ReportFilters) -> None:
        self.filters = filters

    # --- queries ---------------------------------------------------------------
    def _scope_applications(self, rows: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
        # Dates are each query's own (a payment's day, an application's grant date).
        return self.filters.scope(rows, prefix, date_from="", date_to="")

    def payments(self) -> QuerySet[Payment]:
        """Paid Stripe payments for applications in scope, with the Ninox grant's figures."""
        ninox = NinoxGrant.objects.filter(reference=OuterRef("application__reference"))
        ninox = ninox.order_by("ninox_id")
        rows = self._scope_applications(
            Payment.objects.filter(status=Payment.Status.PAID, application__isnull=False),
            "application__",
        )
        rows = in_days(rows, "paid_at", self.filters.date_from, self.filters.date_to)
        return (
            rows.select_related("application")
            .annotate(
                ninox_id=Subquery(ninox.values("ninox_id")[:1]),
                ninox_status=Subquery(ninox.values("status")[:1]),
                ninox_amount=Subquery(ninox.values("amount")[:1]),
            )
            .order_by("application__reference", "id")
        )

    def orphan_payments(self) -> QuerySet[Payment]:
        """Money Stripe took for no application (the webhook flagged it); by paid date."""
        rows = Payment.objects.filter(status=Payment.Status.PAID, application__isnull=True)
        fy = self.filters.fy
        zone = timezone.get_current_timezone()
        start, end = day_bounds(self.filters.date_from, self.filters.date_to)
        start = max(start or datetime.min.replace(tzinfo=zone), _midnight(fy.start))
        end = min(end or datetime.max.replace(tzinfo=zone), _midnight(fy.end + timedelta(days=1)))
        if self.filters.district or self.filters.status:
            return rows.none()  # no application, so no district or status to match
        return rows.filter(paid_at__gte=start, paid_at__lt=end).order_by("paid_at", "id")

    def paid_without_payment(self) -> QuerySet[Application]:
        paid = Payment.objects.filter(application=OuterRef("pk"), status=Payment.Status.PAID)
        ninox = NinoxGrant.objects.filter(reference=OuterRef("reference")).order_by("ninox_id")
        rows = self.filters.scope(Application.objects.filter(status=Status.PAID))
        return (
            rows.filter(~Exists(paid))
            .annotate(
                ninox_id=Subquery(ninox.values("ninox_id")[:1]),
                ninox_status=Subquery(ninox.values("status")[:1]),
                ninox_amount=Subquery(ninox.values("amount")[:1]),
            )
            .order_by("reference")
        )

    def ninox_grants(self) -> QuerySet[NinoxGrant]:
        """Ninox grants carrying a reference, with the portal's application and payment."""
        f = self.filters
        app = Application.objects.filter(reference=OuterRef("reference"))
        paid = Payment.objects.filter(
            application__reference=OuterRef("reference"), status=Payment.Status.PAID
        )
        rows = NinoxGrant.objects.exclude(reference="")
        first = Application.objects.aggregate(first=Min("submitted_at"))["first"]
        if first is None:
            return rows.none()  # no application yet: every grant in Ninox is history
        rows = rows.filter(grant_date__gte=timezone.localtime(first).date()).annotate(
            app_status=Subquery(app.values("status")[:1]),
            app_match=Subquery(app.values("amount_requested")[:1]),
            app_share=Subquery(app.values("amount_raised")[:1]),
            app_released=Subquery(app.values("match_released")[:1]),
            app_refunded=Subquery(app.values("refunded_share")[:1]),
            has_payment=Exists(paid),
        )
        rows = f.scope(rows, status="app_status")  # the status is the portal's
        return rows.select_related("lodge").order_by("reference", "ninox_id")

    def count(self) -> int:
        """Rows found; a full pass (mismatches are found in Python, the sets are small)."""
        return sum(1 for _ in self.rows())

    # --- rows --------------------------------------------------------------------
    def rows(self) -> Iterator[Row]:
        for p in self.payments().iterator(chunk_size=2000):
            yield from self._payment_rows(p)
        for p in self.orphan_payments().iterator(chunk_size=2000):
            yield self._row(
                PAYMENT_WITHOUT_APPLICATION,
                payment=p,
                detail=f"Stripe took {_money(p.amount)} for no application"
                + (f": {p.flag_reason}" if p.flag_reason else "."),
            )
        a: Any
        for a in self.paid_without_payment().iterator(chunk_size=2000):
            yield self._row(
                PORTAL_PAID_WITHOUT_PAYMENT,
                application=a,
                ninox=(a.ninox_id, a.ninox_status, a.ninox_amount),
                detail="The portal says paid, but Stripe has no paid payment for it.",
            )
        for g in self.ninox_grants().iterator(chunk_size=2000):
            yield from self._ninox_rows(g)

    def _payment_rows(self, p: Any) -> Iterator[Row]:
        a = p.application
        ninox = (p.ninox_id, p.ninox_status, p.ninox_amount)
        if p.amount != a.amount_raised:
            yield self._row(
                STRIPE_AMOUNT_DIFFERS,
                payment=p,
                application=a,
                ninox=ninox,
                detail=f"Stripe took {_money(p.amount)}; the lodge share is {_money(a.amount_raised)}.",
            )
        if p.amount_refunded > a.refunded_share and not p.flagged:
            yield self._row(
                REFUND_NOT_IN_PORTAL,
                payment=p,
                application=a,
                ninox=ninox,
                detail=f"Stripe refunded {_money(p.amount_refunded)} of the share; the portal "
                f"released {_money(a.refunded_share)} (a refund still pending, or one it missed).",
            )
        if p.amount_refunded > 0 and p.amount_refunded == a.refunded_share:
            kept = _ninox_should_hold(a.status, a.amount_requested, a.match_released)
            expected = EXPECTED_NINOX_STATUS.get(a.status)
            if p.ninox_id is not None and p.ninox_amount == kept and p.ninox_status == expected:
                yield self._row(
                    REFUND_AGREES,
                    payment=p,
                    application=a,
                    ninox=ninox,
                    detail=f"Nothing: Stripe refunded {_money(p.amount_refunded)} of the share, "
                    f"the portal released {_money(a.match_released)} of the match, and Ninox "
                    f"says {p.ninox_status} with {_money(p.ninox_amount)}.",
                )
        if a.status not in PAID_IN_PORTAL:
            yield self._row(
                STRIPE_PAID_PORTAL_NOT,
                payment=p,
                application=a,
                ninox=ninox,
                detail=f"Stripe says paid; the portal says {Status(a.status).label.lower()}.",
            )
        if p.ninox_id is None:
            yield self._row(
                PAID_NOT_IN_NINOX,
                payment=p,
                application=a,
                ninox=ninox,
                detail="Stripe says paid; Ninox has no grant with this reference.",
            )

    def _ninox_rows(self, g: Any) -> Iterator[Row]:
        ninox = (g.ninox_id, g.status, g.amount)
        lodge_number = g.lodge.number if g.lodge else None
        if g.app_status is None:
            yield self._row(
                NINOX_UNKNOWN_REFERENCE,
                reference=g.reference,
                lodge_number=lodge_number,
                ninox=ninox,
                detail=f"Ninox has {g.reference}; the portal has no application with it.",
            )
            return
        portal = (g.app_status, g.app_share, g.app_match)
        refunded = g.app_refunded or ZERO
        # What Ninox should hold: the match that stays (a full refund keeps the match, Cancelled).
        match_expected = _ninox_should_hold(g.app_status, g.app_match, g.app_released)
        expected = EXPECTED_NINOX_STATUS.get(g.app_status)
        if g.status != NinoxGrant.CANCELLED and not g.has_payment:
            yield self._row(
                NINOX_WITHOUT_PAYMENT,
                reference=g.reference,
                lodge_number=lodge_number,
                portal=portal,
                ninox=ninox,
                detail=f"Ninox has the grant ({g.status or 'no status'}); Stripe has no paid payment.",
            )
        if refunded > 0 and (
            g.amount != match_expected or (expected is not None and g.status != expected)
        ):
            yield self._row(
                REFUND_NOT_IN_NINOX,
                reference=g.reference,
                lodge_number=lodge_number,
                portal=portal,
                ninox=ninox,
                kept=match_expected,
                detail=f"{_money(refunded)} of the share was refunded; Ninox should say "
                f"{expected or 'Paid'} with {_money(match_expected)}, and says "
                f"{g.status or 'nothing'} with {_money(g.amount)}.",
            )
            return
        if g.amount != match_expected:
            yield self._row(
                NINOX_AMOUNT_DIFFERS,
                reference=g.reference,
                lodge_number=lodge_number,
                portal=portal,
                ninox=ninox,
                detail=f"Ninox says {_money(g.amount)}; the portal's match is {_money(match_expected)}.",
            )
        if expected is not None and g.status != expected:
            yield self._row(
                NINOX_STATUS_DIFFERS,
                reference=g.reference,
                lodge_number=lodge_number,
                portal=portal,
                ninox=ninox,
                detail=f"Ninox says {g.status or 'nothing'}; the portal says "
                f"{Status(g.app_status).label.lower()}.",
            )

    def _row(
        self,
        kind: str,
        *,
        detail: str,
        payment: Any = None,
        application: Any = None,
        reference: str = "",
        lodge_number: int | None = None,
        portal: tuple[Any, Any, Any] | None = None,
        ninox: tuple[Any, Any, Any] = (None, "", None),
        kept: Decimal | None = None,
    ) -> Row:
        if application is not None:
            reference = application.reference
            lodge_number = application.lodge_number
            portal = (application.status, application.amount_raised, application.amount_requested)
            kept = application.match_kept
        status, share, match = portal or ("", None, None)
        paid_at = (
            timezone.localtime(payment.paid_at).replace(tzinfo=None)
            if payment and payment.paid_at
            else None
        )
        return {
            "mismatch": kind,
            "reference": reference,
            "lodge_number": lodge_number,
            "stripe_session": payment.stripe_session_id if payment else "",
            "stripe_paid_at": paid_at,
            "stripe_amount": payment.amount if payment else None,
            "stripe_refunded": payment.amount_refunded if payment else None,
            "portal_status": Status(status).label if status else "",
            "lodge_share": share,
            "portal_match": match,
            "match_kept": kept,
            "ninox_record": ninox[0],
            "ninox_status": ninox[1] or "",
            "ninox_amount": ninox[2],
            "what_differs": detail,
        }


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time.min, timezone.get_current_timezone())


__all__ = ["KINDS", "Reconciliation"]
