"""``grant_write_back``: put a paid grant into Ninox's Grants table, exactly once.

It writes the grant as it stands: paid, with the match that stays after a partial refund
as its Amount; or, refunded in full, with the Status ``Cancelled`` (the Amount is the
match that was granted). A refund's write-back is the same call, from its own outbox row.

Whether the grant's row exists is decided first, keyed by the application's
reference, so a task that runs twice, or a Ninox that committed a create and then
answered 500, still leaves one row: the next attempt finds it and updates it.

No lookup is trusted. With a lookup form the doctor has shown to be honoured on this
account (the capability profile) the client looks the reference up and verifies the
record it gets; without one, an NX query names the rows and each is read back and
verified (``Table.find``). Exactly one verified row is updated, by its id only; none
means create, and the created row must carry our reference. When Ninox cannot confirm
whether the row exists (the lookup is not honoured, the query is refused, several rows
carry the reference) nothing is written: the outbox row fails for good with the
reason, finance is emailed, and the outbox's Retry runs it again after a person looked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from grants.models import Application, NinoxGrant, OutboxMessage, Payment, Status
from grants.outbox import PermanentError, outbox_enqueue
from grants.sync_handlers import GrantHandler
from ninox_backend.exceptions import NinoxError
from ninox_backend.ninox.connection import database, mapping
from ninox_backend.ninox.profile_store import load_profile
from ninox_backend.types import Record
from portal.audit import audit_record

NINOX_STATUS_PAID = "Paid"
# The Ninox status each written portal status gets.
NINOX_STATUS = {Status.PAID: NINOX_STATUS_PAID, Status.REFUNDED: NinoxGrant.CANCELLED}
ACTOR = "ninox write-back"


class WriteBackRefused(PermanentError):
    """Ninox could not confirm whether the grant's row exists, or the row written is not ours.

    The message says why and what a person should check before pressing Retry.
    """


def grant_write_back(*, application_id: int) -> int:
    """Create or update the application's Grants row; returns its Ninox record id.

    Raises ``NinoxError`` (its ``permanent`` says whether a retry can help),
    ``WriteBackRefused`` when it cannot be sure which row is the grant's (finance is
    told), and ``PermanentError`` for an application that is neither paid nor refunded.
    No transaction is held across the Ninox calls.
    """
    application = Application.objects.select_related("lodge").get(id=application_id)
    if application.status not in NINOX_STATUS:
        raise PermanentError(f"{application.reference} is {application.status}, not paid.")
    grants = mapping()["grants"]
    f = grants.field
    reference_field = f("reference")
    fields = _grant_fields(application, f)
    table = database().table(grants.name)
    existing = _existing_row(table, reference_field, application)
    if existing is not None:
        record = table.update(existing.id, fields)  # by the verified id, nothing else
    else:
        record = table.create(fields)
        if record.get(reference_field) != application.reference:
            raise _refuse(
                application,
                f"Ninox created Grants record {record.id}, but it does not carry the reference "
                f"{application.reference} (it shows {record.get(reference_field)!r}). Check "
                f"that record in Ninox before pressing Retry: a retry may create another.",
            )
    # The mirror learns of the row now, so the budget counts it once without waiting for a sync.
    GrantHandler().upsert([record])
    Application.objects.filter(id=application.id).update(
        ninox_record_id=record.id, written_back_at=timezone.now()
    )
    audit_record(
        actor=ACTOR,
        action="application.written_back",
        obj=application,
        after={"ninox_record_id": record.id, "updated": existing is not None},
    )
    return record.id


def _grant_fields(application: Application, f: Any) -> dict[str, object]:
    payment = (
        Payment.objects.filter(application=application, status=Payment.Status.PAID, flagged=False)
        .order_by("paid_at", "id")
        .first()
    )
    fields: dict[str, object] = {
        f("reference"): application.reference,
        # The match that counts against the cap; a full refund keeps the granted match, Cancelled.
        f("amount"): application.amount_requested
        if application.status == Status.REFUNDED
        else application.match_kept,
        f("grant_date"): application.grant_date,
        f("charity"): application.charity_name,
        f("purpose"): application.purpose,
        f("status"): NINOX_STATUS[Status(application.status)],
        f("paid_at"): _utc(application.paid_at),
        f("payment"): (payment.stripe_payment_intent_id or payment.stripe_session_id)
        if payment
        else "",
    }
    if application.lodge is not None:
        fields[f("lodge")] = application.lodge.ninox_id
    return fields


def _existing_row(table: Any, reference_field: str, application: Application) -> Record | None:
    """The one Grants row carrying the application's reference, verified; None if there is none.

    A transient Ninox error is raised as it is (the outbox retries); anything that leaves
    the question open is a ``WriteBackRefused``.
    """
    reference = application.reference
    form = load_profile().lookup_form
    how = f"the {form} lookup" if form else "the query"
    try:
        if form:
            found = table.first({reference_field: reference}, form=form)
            matches: list[Record] = [found] if found is not None else []
        else:
            matches = list(table.find({reference_field: reference}))
    except NinoxError as exc:
        if not exc.permanent:
            raise
        raise _refuse(
            application,
            f"Ninox could not confirm whether the grant is already in its Grants table: "
            f"{how} for Reference {reference} failed ({type(exc).__name__}: {exc}).",
        ) from exc
    foreign = [m for m in matches if m.get(reference_field) != reference]
    if foreign:
        raise _refuse(
            application,
            f"{how} for Reference {reference} answered with Grants record "
            f"{foreign[0].id}, which carries {foreign[0].get(reference_field)!r}: "
            "Ninox does not honour this lookup.",
        )
    if len(matches) > 1:
        ids = ", ".join(str(m.id) for m in matches)
        raise _refuse(
            application,
            f"Ninox holds {len(matches)} Grants rows with Reference {reference} (records {ids}); "
            "delete the extra ones in Ninox.",
        )
    return matches[0] if matches else None


def _refuse(application: Application, why: str) -> WriteBackRefused:
    """Tell finance (email and audit) and return the error that fails the outbox row."""
    message = (
        f"Nothing was written to Ninox for {application.reference}. {why} "
        "When it is sorted out, press Retry on this row."
    )
    with transaction.atomic():
        earlier = OutboxMessage.objects.filter(
            kind=OutboxMessage.Kind.EMAIL_WRITE_BACK_FAILED, application=application
        ).count()
        outbox_enqueue(
            kind=OutboxMessage.Kind.EMAIL_WRITE_BACK_FAILED,
            dedupe_key=f"email_write_back_failed:{application.reference}:{earlier + 1}",
            application=application,
            payload={"application_id": application.id, "reason": why},
        )
        audit_record(
            actor=ACTOR,
            action="application.write_back_refused",
            obj=application,
            message=message[:500],
        )
    return WriteBackRefused(message)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None


def write_back_from_outbox(message: OutboxMessage) -> int:
    return grant_write_back(application_id=int(message.payload["application_id"]))
