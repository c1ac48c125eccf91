"""``grant_write_back``: put a paid grant into Ninox's Grants table, exactly once.

The lookup by the application's reference comes first, so a task that runs twice,
or a Ninox that committed a create and then answered 500, still leaves one row:
the next attempt finds it and updates it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

from grants.models import Application, OutboxMessage, Payment, Status
from grants.ninox_mirror import GrantHandler
from grants.outbox import PermanentError
from ninox_backend.connection import database, mapping
from portal.audit import audit_record

NINOX_STATUS_PAID = "Paid"


def grant_write_back(*, application_id: int) -> int:
    """Create or update the application's Grants row; returns its Ninox record id.

    Raises ``NinoxError`` (its ``permanent`` says whether a retry can help) and
    ``PermanentError`` for an application that is not paid. No transaction is held
    across the Ninox calls.
    """
    application = Application.objects.select_related("lodge").get(id=application_id)
    if application.status != Status.PAID:
        raise PermanentError(f"{application.reference} is {application.status}, not paid.")
    grants = mapping()["grants"]
    f = grants.field
    payment = (
        Payment.objects.filter(application=application, status=Payment.Status.PAID, flagged=False)
        .order_by("paid_at", "id")
        .first()
    )
    fields: dict[str, object] = {
        f("reference"): application.reference,
        f("amount"): application.amount_requested,  # the match: what counts against the cap
        f("grant_date"): application.grant_date,
        f("charity"): application.charity_name,
        f("purpose"): application.purpose,
        f("status"): NINOX_STATUS_PAID,
        f("paid_at"): _utc(application.paid_at),
        f("payment"): (payment.stripe_payment_intent_id or payment.stripe_session_id)
        if payment
        else "",
    }
    if application.lodge is not None:
        fields[f("lodge")] = application.lodge.ninox_id
    table = database().table(grants.name)
    existing = table.first(filters={f("reference"): application.reference})
    record = table.update(existing.id, fields) if existing else table.create(fields)
    # The mirror learns of the row now, so the budget counts it once without waiting for a sync.
    GrantHandler().upsert([record])
    Application.objects.filter(id=application.id).update(
        ninox_record_id=record.id, written_back_at=timezone.now()
    )
    audit_record(
        actor="ninox write-back",
        action="application.written_back",
        obj=application,
        after={"ninox_record_id": record.id, "updated": existing is not None},
    )
    return record.id


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment else None


def write_back_from_outbox(message: OutboxMessage) -> int:
    return grant_write_back(application_id=int(message.payload["application_id"]))
