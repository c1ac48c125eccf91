"""``application_cancel``: a reviewer cancels an approved, unpaid application; its match is released."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from grants.models import Lodge, Status
from grants.selectors.budgets import lodge_budget
from grants.services.review import application_cancel
from portal.lib.errors import PortalError
from portal.models import AuditEvent
from tests.factories import ApplicationFactory

CAP = Decimal("4000.00")


def test_it_cancels_an_approved_application_and_releases_its_match(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00051"
    )
    before = lodge_budget(fresh_lodge.id, application.fiscal_year, CAP)

    application_cancel(
        application=application, actor=reviewer, reason="  The event was called off "
    )

    assert application.status == Status.CANCELLED
    after = lodge_budget(fresh_lodge.id, application.fiscal_year, CAP)
    assert after.remaining - before.remaining == application.amount_requested
    event = AuditEvent.objects.get(action="application.cancelled")
    assert event.before == {"status": "approved"}
    assert event.after == {"status": "cancelled", "reason": "The event was called off"}


@pytest.mark.parametrize("status", [Status.PAID, Status.EXPIRED, Status.NEEDS_REVIEW])
def test_it_refuses_to_cancel_an_application_that_is_not_approved(
    fresh_lodge: Lodge, reviewer: Any, status: Status
) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00052", status=status
    )

    with pytest.raises(PortalError, match="Only an approved, unpaid application can be cancelled"):
        application_cancel(application=application, actor=reviewer, reason="Called off")

    application.refresh_from_db()
    assert application.status == status
    assert not AuditEvent.objects.filter(action="application.cancelled").exists()


def test_it_refuses_a_user_without_the_decide_permission(fresh_lodge: Lodge, finance: Any) -> None:
    application = ApplicationFactory.create(
        approved=True, lodge=fresh_lodge, reference="MG-2099-00053"
    )

    with pytest.raises(PortalError, match="Reviewer"):
        application_cancel(application=application, actor=finance, reason="Called off")

    application.refresh_from_db()
    assert application.status == Status.APPROVED
