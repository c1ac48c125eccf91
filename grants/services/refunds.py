"""Refunds of a paid grant, and what follows them: the match, the budget, Ninox, the emails.

Stripe refunds the lodge's **share**; the match follows it. The match that stays granted is
``min(match, (share - refunded) x ratio)``; the rest returns to the lodge's budget.

What counts as refunded is the charge's cumulative ``amount_refunded`` (the newest charge
state seen: an older event changes nothing) less the refunds that are not final yet (being
requested, pending): so duplicated or out-of-order events change nothing twice, and a
pending or failed refund releases nothing. Each change of the refunded share writes the
application, the audit event and the outbox rows (the Ninox update, the lodge, vendor and
finance emails) in one transaction, keyed by the share refunded so far: one Ninox update
per change, whoever reported it first (the portal's own request or Stripe's webhook).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from grants.models import Application, OutboxMessage, Payment, Refund, Status
from grants.models.applications import REFUND
from grants.money import CENT, ZERO, format_money, from_cents, parse_amount, to_cents
from grants.outbox import outbox_enqueue
from grants.payments.provider import PaymentProvider, ProviderError, payment_provider
from grants.rules import rules_in_force
from grants.selectors.applications import fiscal_year_label
from grants.selectors.budgets import TAKEN_BACK
from grants.services.staff_text import clean_reason
from portal.audit import audit_record
from portal.lib.errors import PortalError
from portal.permissions import has_permission

WEBHOOK = "stripe webhook"
Kind = OutboxMessage.Kind
RStatus = Refund.Status
# A request still "being requested" after this was cut short (a crash): it no longer holds
# anything back, and Stripe's own events about it (by its metadata) settle it.
REQUEST_TIMEOUT = timedelta(minutes=10)
REFUND_EFFECTS = (
    Kind.NINOX_REFUND,
    Kind.EMAIL_REFUND_LODGE,
    Kind.EMAIL_REFUND_VENDOR,
    Kind.EMAIL_REFUND_FINANCE,
)


@dataclass(frozen=True)
class RefundFigures:
    """What a refund of the share leaves: for the confirmation page and the audit message."""

    share: Decimal
    refunded_before: Decimal
    refunded_after: Decimal
    match: Decimal
    match_kept: Decimal

    @property
    def released(self) -> Decimal:
        """The match that returns to the lodge's budget in all (this refund and earlier ones)."""
        return self.match - self.match_kept

    @property
    def full(self) -> bool:
        return self.refunded_after >= self.share


def match_kept_after(application: Application, refunded_share: Decimal) -> Decimal:
    """``min(match, (share - refunded) x ratio)``, rounded down to the cent, never negative."""
    ratio = rules_in_force(application.decided_at or application.submitted_at).match_ratio
    left = ((application.amount_raised - refunded_share) * ratio).quantize(CENT, ROUND_DOWN)
    return max(ZERO, min(application.amount_requested, left))


def refund_figures(application: Application, refunded_after: Decimal) -> RefundFigures:
    return RefundFigures(
        share=application.amount_raised,
        refunded_before=application.refunded_share,
        refunded_after=refunded_after,
        match=application.amount_requested,
        match_kept=match_kept_after(application, refunded_after),
    )


def refundable(payment: Payment) -> Decimal:
    """What of the payment can still be refunded (Stripe's view, plus requests on their way)."""
    asked = (
        Refund.objects.filter(payment=payment)
        .exclude(status__in=(RStatus.FAILED, RStatus.CANCELED))
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    return max(ZERO, payment.amount - max(payment.amount_refunded, asked))


def share_payment(application: Application) -> Payment | None:
    """The payment that is the lodge's share (paid and not flagged), if there is one."""
    return (
        Payment.objects.filter(application=application, status=Payment.Status.PAID, flagged=False)
        .order_by("paid_at", "id")
        .first()
    )


def refund_amount(*, application: Application, payment: Payment, amount: str) -> Decimal:
    """The share to refund as typed (empty: all that is left); a ``PortalError`` names the rule."""
    left = refundable(payment)
    if not (amount or "").strip():
        if left <= ZERO:
            raise PortalError(f"Nothing is left to refund on {application.reference}.")
        return left
    try:
        value = parse_amount(amount, lenient=True, label="Amount")
    except ValueError as exc:
        raise PortalError(str(exc), {"amount": [str(exc)]}) from None
    if value <= ZERO:
        message = "Amount must be at least $0.01."
        raise PortalError(message, {"amount": [message]})
    if value > left:
        message = f"Amount must be at most {format_money(left)}, what is left of the lodge's share."
        raise PortalError(message, {"amount": [message]})
    return value


def refund_request(
    *,
    application: Application,
    actor: Any,
    reason: str,
    amount: str = "",
    provider: PaymentProvider | None = None,
) -> Refund:
    """Refund the lodge's share, in full (``amount`` empty) or in part, through Stripe.

    Finance or Admin, with a reason. The request is stored before Stripe is asked (so a
    second click finds it and is refused) and no transaction is held across the call.
    The effects follow from the charge Stripe returns, exactly as from its webhook.
    """
    verdict = has_permission(REFUND, actor, application)
    if not verdict.allowed:
        raise PortalError(verdict.reason)
    reason = clean_reason(reason)
    provider = provider or payment_provider()
    now = timezone.now()
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(id=application.id)
        if locked.status != Status.PAID:
            raise PortalError(
                f"Only a paid grant can be refunded; {locked.reference} is "
                f"{locked.get_status_display().lower()}."
            )
        payment = share_payment(locked)
        if payment is None:
            raise PortalError(f"{locked.reference} has no Stripe payment to refund.")
        payment = Payment.objects.select_for_update().get(id=payment.id)
        if Refund.objects.filter(
            payment=payment, status=RStatus.REQUESTING, created_at__gt=now - REQUEST_TIMEOUT
        ).exists():
            raise PortalError(
                "A refund of this payment is being requested already; reload the page."
            )
        value = refund_amount(application=locked, payment=payment, amount=amount)
        row = Refund.objects.create(
            payment=payment,
            amount=value,
            reason=reason,
            requested_by=actor,
            requested_by_name=actor.get_username(),
        )
        audit_record(
            actor=actor,
            action="application.refund_requested",
            obj=locked,
            after={"amount": str(value), "refund": row.id},
            message=f"Asked Stripe to refund {format_money(value)} of the lodge's share: {reason}",
        )
    try:
        result = provider.refund(
            payment=payment,
            amount_cents=to_cents(value),
            key=f"grants-refund-{locked.reference}-{row.id}",
            metadata={"application_reference": locked.reference, "portal_refund": str(row.id)},
        )
    except ProviderError as exc:
        if exc.unsure:
            # Stripe may have made it: the row stays "being requested" (holding back a second
            # click) until Stripe's own events, which carry its id in the metadata, settle it.
            Refund.objects.filter(id=row.id).update(error=str(exc)[:300])
            audit_record(
                actor=actor,
                action="application.refund_unconfirmed",
                obj=locked,
                message=f"Stripe did not answer the refund of {format_money(value)}: {exc}",
            )
            raise PortalError(
                f"Stripe did not answer, so the refund of {format_money(value)} may or may not "
                "have been made. The portal follows Stripe's events; check Stripe's dashboard "
                "before asking again."
            ) from exc
        with transaction.atomic():
            Refund.objects.filter(id=row.id).update(status=RStatus.FAILED, error=str(exc)[:300])
            audit_record(
                actor=actor,
                action="application.refund_failed",
                obj=locked,
                message=f"Stripe did not refund {format_money(value)}: {exc}",
            )
        raise PortalError(f"The refund was not made. {exc}") from exc
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(id=application.id)
        payment = Payment.objects.select_for_update().get(id=payment.id)
        _refund_upsert(payment, result.refund, row=Refund.objects.get(id=row.id))
        if result.charge is not None:
            _charge_apply(payment, result.charge, as_of=now)
        refunds_settle(application=locked, payment=payment, actor=actor)
    row.refresh_from_db()
    application.refresh_from_db()
    return row


# ---- what Stripe reports ------------------------------------------------------------------


def _to_utc(timestamp: Any) -> datetime | None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def _cents(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 10**12:
        return None
    return value


def _id_of(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value or "")[:255]


def _payment_for(obj: Mapping[str, Any], *, charge_id: str) -> Payment | None:
    """The paid payment a charge or refund is about: by charge, payment intent, then reference."""
    paid = Payment.objects.filter(status=Payment.Status.PAID)
    if charge_id:
        found = paid.filter(stripe_charge_id=charge_id).first()
        if found is not None:
            return found
    intent = _id_of(obj.get("payment_intent"))
    if intent:
        found = paid.filter(stripe_payment_intent_id=intent).order_by("id").first()
        if found is not None:
            return found
    metadata = obj.get("metadata")
    reference = (
        str(metadata.get("application_reference") or "") if isinstance(metadata, Mapping) else ""
    )
    if reference:
        return paid.filter(application__reference=reference, flagged=False).order_by("id").first()
    return None


def _lock(payment: Payment) -> tuple[Application | None, Payment]:
    """Lock the application first (as the payment events do), then the payment."""
    application = None
    if payment.application_id is not None:
        application = Application.objects.select_for_update().get(id=payment.application_id)
    return application, Payment.objects.select_for_update().get(id=payment.id)


def _charge_apply(payment: Payment, charge: Mapping[str, Any], *, as_of: datetime) -> bool:
    """Take the charge's ``amount_refunded`` unless a newer charge state was applied already."""
    cents = _cents(charge.get("amount_refunded"))
    if cents is None:
        return False
    as_of = _whole_second(as_of)
    if payment.refunds_as_of is not None and as_of < payment.refunds_as_of:
        return False
    payment.amount_refunded = from_cents(cents)
    payment.refunds_as_of = as_of
    payment.stripe_charge_id = _id_of(charge.get("id")) or payment.stripe_charge_id
    payment.save(
        update_fields=["amount_refunded", "refunds_as_of", "stripe_charge_id", "updated_at"]
    )
    return True


def _refund_upsert(
    payment: Payment,
    refund: Mapping[str, Any],
    *,
    row: Refund | None = None,
    event_at: datetime | None = None,
) -> Refund | None:
    """Record a Stripe Refund object; a status only moves forward. Returns the row."""
    refund_id = _id_of(refund.get("id"))
    cents = _cents(refund.get("amount"))
    status = str(refund.get("status") or "")
    if not refund_id or cents is None or status not in Refund.RANK or status == RStatus.REQUESTING:
        return None
    if row is None:
        row = Refund.objects.select_for_update().filter(stripe_refund_id=refund_id).first()
    if row is None:
        metadata = refund.get("metadata")
        portal_id = (
            str(metadata.get("portal_refund") or "") if isinstance(metadata, Mapping) else ""
        )
        if portal_id.isdigit():
            row = (
                Refund.objects.select_for_update()
                .filter(id=int(portal_id), payment=payment, stripe_refund_id__isnull=True)
                .first()
            )
    created = _to_utc(refund.get("created"))
    if row is None:
        return Refund.objects.create(
            payment=payment,
            stripe_refund_id=refund_id,
            amount=from_cents(cents),
            status=status,
            reason="Made in Stripe",
            requested_by_name="stripe",
            stripe_created=created,
        )
    row.stripe_refund_id = refund_id
    row.stripe_created = row.stripe_created or created
    if Refund.RANK[status] > Refund.RANK[row.status]:  # type: ignore[index]
        was_counted = row.status != RStatus.REQUESTING and (
            payment.refunds_as_of is not None
            and row.stripe_created is not None
            and row.stripe_created <= payment.refunds_as_of
        )
        failed_at = _whole_second(event_at or timezone.now())
        if (
            status in (RStatus.FAILED, RStatus.CANCELED)
            and was_counted
            and payment.refunds_as_of is not None
            and failed_at >= payment.refunds_as_of
        ):
            # Stripe takes a failed refund out of the charge's amount_refunded; so do we, until
            # a newer charge event says how it stands. A charge state newer than the failure
            # has it taken out already: nothing is taken off twice, and time never goes back.
            payment.amount_refunded = max(ZERO, payment.amount_refunded - row.amount)
            payment.refunds_as_of = failed_at
            payment.save(update_fields=["amount_refunded", "refunds_as_of", "updated_at"])
        row.status = status
    row.save()
    return row


def refunds_settle(*, application: Application | None, payment: Payment, actor: Any) -> str:
    """Bring the application in line with the refunds of its share; call with both locked.

    Returns what changed. If Stripe reports less than was already released (a refund failed
    after it succeeded), the release is taken back at once and finance is told.
    """
    if (
        application is None
        or payment.flagged
        or application.status not in (Status.PAID, Status.REFUNDED)
    ):
        return "recorded: the payment is not a paid grant's share"
    stale = timezone.now() - REQUEST_TIMEOUT
    unsettled = (
        Refund.objects.filter(payment=payment, status__in=Refund.UNSETTLED)
        .exclude(status=RStatus.REQUESTING, created_at__lte=stale)
        .aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
    refunded = min(application.amount_raised, max(ZERO, payment.amount_refunded - unsettled))
    if refunded == application.refunded_share:
        return "no change"
    if refunded < application.refunded_share:
        return _release_take_back(
            application=application, payment=payment, refunded=refunded, actor=actor
        )
    figures = refund_figures(application, refunded)
    released_now = application.match_kept - figures.match_kept
    before = _refund_state(application)
    application.refunded_share = refunded
    application.match_released = figures.released
    if figures.full:
        application.move_to(Status.REFUNDED, actor=actor)
    application.save(update_fields=["status", "refunded_share", "match_released", "updated_at"])
    lodge = application.lodge.name if application.lodge else f"Lodge {application.lodge_number}"
    audit_record(
        actor=actor,
        action="application.refunded" if figures.full else "application.partly_refunded",
        obj=application,
        before=before,
        after=_refund_state(application),
        message=(
            f"Stripe refunded {format_money(refunded)} of the lodge's {format_money(figures.share)} share"
            + (" (all of it)" if figures.full else "")
            + f"; the match that stays is {format_money(figures.match_kept)}, and "
            f"{format_money(released_now)} returns to {lodge}'s budget for {fiscal_year_label(application)}."
        ),
    )
    # Keyed by the share refunded so far and by how many times Stripe took a refund back (a
    # figure seen before a take-back is news again after it).
    rounds = _take_backs(application)
    key = f"{to_cents(refunded)}" + (f":after-{rounds}" if rounds else "")
    ids = {"application_id": application.id, "payment_id": payment.id}
    for kind in REFUND_EFFECTS:
        outbox_enqueue(
            kind=kind,
            dedupe_key=f"{kind}:{application.reference}:{key}",
            application=application,
            payload=ids,
        )
    return "refunded" if figures.full else "partly refunded"


def _refund_state(application: Application) -> dict[str, str]:
    """What the audit log keeps of a refund's effect, before and after it."""
    return {
        "status": application.status,
        "refunded_share": str(application.refunded_share),
        "match_kept": str(application.match_kept),
    }


def _take_backs(application: Application) -> int:
    """How many times Stripe took back a refund of this application's share."""
    return OutboxMessage.objects.filter(
        application=application, kind=Kind.NINOX_REFUND, dedupe_key__contains=TAKEN_BACK
    ).count()


def _release_take_back(
    *, application: Application, payment: Payment, refunded: Decimal, actor: Any
) -> str:
    """Stripe now reports less of the share refunded than the portal released (a refund failed
    or was reversed after it succeeded): the money is the foundation's again, so the match it
    matches counts against the lodge's budget again, at once (the budget counts the portal's
    figure until Ninox has it: ``grants.selectors.budgets``). The cap is never left open by a
    release Stripe does not confirm. Ninox is written back, once, and finance is told."""
    figures = refund_figures(application, refunded)
    counted_again = figures.match_kept - application.match_kept
    before = _refund_state(application)
    previously = application.refunded_share
    application.refunded_share = refunded
    application.match_released = figures.released
    if application.status == Status.REFUNDED and not figures.full:
        application.move_to(Status.PAID, actor=actor)
    application.save(update_fields=["status", "refunded_share", "match_released", "updated_at"])
    lodge = application.lodge.name if application.lodge else f"Lodge {application.lodge_number}"
    message = (
        f"Stripe now reports {format_money(refunded)} of the lodge's share refunded, not "
        f"{format_money(previously)} (a refund failed or was reversed); "
        f"{format_money(counted_again)} of the match counts against {lodge}'s budget for "
        f"{fiscal_year_label(application)} again, and the match that stays is "
        f"{format_money(figures.match_kept)}. Check the refunds in Stripe."
    )
    audit_record(
        actor=actor,
        action="application.refund_taken_back",
        obj=application,
        before=before,
        after=_refund_state(application),
        message=message,
    )
    suffix = f"{to_cents(refunded)}{TAKEN_BACK}{_take_backs(application) + 1}"
    ids = {"application_id": application.id, "payment_id": payment.id}
    for kind in (Kind.NINOX_REFUND, Kind.EMAIL_REFUND_FINANCE):
        outbox_enqueue(
            kind=kind,
            dedupe_key=f"{kind}:{application.reference}:{suffix}",
            application=application,
            payload={**ids, "taken_back": str(previously)},
        )
    return "taken back: " + message


def charge_record_from_webhook(*, charge: Mapping[str, Any], event_at: datetime) -> str:
    """``charge.refunded`` (and other charge events): the cumulative refunded amount. Call in the
    webhook's transaction."""
    charge_id = _id_of(charge.get("id"))
    found = _payment_for(charge, charge_id=charge_id)
    if found is None:
        return "ignored: no paid payment has this charge"
    application, payment = _lock(found)
    if not _charge_apply(payment, charge, as_of=event_at):
        return "no change: a newer state of the charge was applied already"
    refunds = charge.get("refunds")
    if isinstance(refunds, Mapping) and isinstance(refunds.get("data"), list):
        for refund in refunds["data"]:
            if isinstance(refund, Mapping):
                _refund_upsert(payment, refund, event_at=event_at)
    return refunds_settle(application=application, payment=payment, actor=WEBHOOK)


def refund_record_from_webhook(*, refund: Mapping[str, Any], event_at: datetime) -> str:
    """``refund.created`` / ``refund.updated`` / ``refund.failed``: one refund's status."""
    found = _payment_for(refund, charge_id=_id_of(refund.get("charge")))
    if found is None:
        return "ignored: no paid payment has this refund"
    application, payment = _lock(found)
    if _refund_upsert(payment, refund, event_at=event_at) is None:
        return "ignored: not a refund we can read"
    return refunds_settle(application=application, payment=payment, actor=WEBHOOK)
