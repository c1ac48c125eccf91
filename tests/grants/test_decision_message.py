"""The lodge hears only what is meant for it: a staff decision's message reaches the lodge's
page and email, its internal note never does, and "what next" follows the decision."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.test import Client

from grants.fiscal_year import long_date
from grants.models import Application, Decision, Lodge, OutboxMessage, Reapply, Status
from grants.outbox import outbox_deliver
from grants.rules import current_fiscal_year
from grants.selectors.applications import status_token
from grants.services.review import application_decide
from grants.services.submit import application_submit
from portal.lib.errors import PortalError
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db

MESSAGE = "The lodge surrendered its charter; it is not eligible."
NOTE = "Checked with the district office by phone"


def waiting(lodge: Lodge, amount: str = "500.00") -> Application:
    body = valid_body(lodge.number, amount_raised=amount, amount_requested=amount)
    application = application_submit(cleaned=as_cleaned(body), source="web")
    Application.objects.filter(pk=application.pk).update(status=Status.NEEDS_REVIEW)
    application.refresh_from_db()
    return application


def status_page(application: Application) -> str:
    return Client().get(f"/status/{status_token(application)}/").content.decode()


def decision_email(application: Application) -> Any:
    for message in OutboxMessage.objects.filter(application=application, kind="email_decision"):
        outbox_deliver(message.id)
    return mail.outbox[-1]


def test_the_lodge_reads_the_message_and_never_the_internal_note(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = waiting(fresh_lodge)
    application_decide(
        application=application,
        actor=reviewer,
        outcome="rejected",
        message=MESSAGE,
        internal_note=NOTE,
        reapply=Reapply.NO,
    )
    page = status_page(application)
    assert f"Message from the grants team:</strong> {MESSAGE}" in page
    assert NOTE not in page
    assert reviewer.get_username() not in page
    assert "may apply again" not in page  # the reason rules it out
    assert "please do not apply again" in page
    email = decision_email(application)
    assert MESSAGE in email.body
    assert NOTE not in email.body
    assert "may apply again" not in email.body
    html = email.alternatives[0][0]
    assert NOTE not in html
    decision = Decision.objects.filter(application=application).latest("id")
    assert (decision.message, decision.internal_note) == (MESSAGE, NOTE)


def test_a_decision_without_a_message_is_refused_naming_the_field(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    with pytest.raises(PortalError) as refused:
        application_decide(
            application=waiting(fresh_lodge), actor=reviewer, outcome="rejected", message=" "
        )
    assert "message" in refused.value.errors


def test_with_nothing_left_this_year_what_next_names_the_day_the_next_one_starts(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    full = waiting(fresh_lodge, "4000.00")
    application_decide(application=full, actor=reviewer, outcome="approved", message="Fine")
    application = waiting(fresh_lodge, "100.00")
    application_decide(
        application=application, actor=reviewer, outcome="rejected", message="Nothing is left."
    )
    page = status_page(application)
    next_start = long_date(current_fiscal_year().end + timedelta(days=1))
    assert f"may apply again from {next_start}" in page
    assert "this fiscal year for a match" not in page
    assert "Apply for" not in page


def test_a_reviewer_may_send_the_lodge_to_the_next_fiscal_year(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = waiting(fresh_lodge)
    application_decide(
        application=application,
        actor=reviewer,
        outcome="rejected",
        message="One grant a year for this cause.",
        reapply=Reapply.NEXT_YEAR,
    )
    page = status_page(application)
    assert "this fiscal year for a match" not in page
    assert long_date(current_fiscal_year().end + timedelta(days=1)) in page


def test_the_staff_form_labels_the_message_and_the_note(fresh_lodge: Lodge, reviewer: Any) -> None:
    from tests.conftest import client_for

    application = waiting(fresh_lodge)
    html = client_for(reviewer).get(f"/applications/{application.reference}/").content.decode()
    assert "the lodge will read this" in html
    assert "Internal note" in html
    client = client_for(reviewer)
    row = client.get(
        f"/applications/{application.reference}/decide/", headers={"HX-Request": "true"}
    ).content.decode()  # the queue's row, opened to decide
    assert "the lodge will read this" in row
    assert "Internal note" in row


def test_existing_staff_reasons_become_the_lodges_message(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = waiting(fresh_lodge)
    decision = application_decide(
        application=application, actor=reviewer, outcome="rejected", message="x"
    )
    Decision.objects.filter(pk=decision.pk).update(reason="Old reason", message="")
    automatic = Decision.objects.create(
        application=application,
        outcome="needs_review",
        decided_by_name="auto-decision",
        kind="auto",
        reason="Ninox unreachable",
        cap=Decimal("4000.00"),
        used_ninox=Decimal("0.00"),
        pending_portal=Decimal("0.00"),
        remaining=Decimal("4000.00"),
        requested=Decimal("500.00"),
        rules_version=1,
        explanation="Waiting for a person.",
    )
    migration = import_module(
        "grants.migrations.0008_decision_message_to_the_lodge_and_internal_note"
    )
    migration.reasons_become_messages(apps, None)
    decision.refresh_from_db()
    automatic.refresh_from_db()
    assert (decision.message, decision.reason) == ("Old reason", "")
    assert (automatic.message, automatic.reason) == ("", "Ninox unreachable")


def test_a_rejection_from_the_queue_row_never_invites_the_lodge_to_apply_again(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    """The queue's row has no "what next" choice: a person's rejection of a match the budget
    allowed leaves the reason to the message, and neither page nor email contradicts it."""
    from tests.conftest import client_for

    application = waiting(fresh_lodge)
    response = client_for(reviewer).post(
        f"/applications/{application.reference}/decide/",
        {"outcome": "rejected", "message": MESSAGE},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.REJECTED
    page = status_page(application)
    assert f"Message from the grants team:</strong> {MESSAGE}" in page
    assert "may apply again" not in page
    assert "Apply for" not in page
    assert "write to them before your lodge applies again" in page
    email = decision_email(application)
    assert MESSAGE in email.body
    assert "may apply again" not in email.body


def test_what_next_names_the_next_fiscal_years_own_cap_once_a_change_names_it(
    fresh_lodge: Lodge, admin_user: Any
) -> None:
    from grants.rules import rules_in_force
    from grants.services.rules import grant_rules_change

    this_cap = rules_in_force().annual_cap
    next_cap = this_cap + Decimal("500.00")
    grant_rules_change(
        changes={"annual_cap": next_cap},
        actor=admin_user,
        fiscal_year_from=current_fiscal_year().next().key,
        reason="The board raised next year's cap",
    )
    spent = this_cap - Decimal("100.00")
    body = valid_body(fresh_lodge.number, amount_raised=str(spent), amount_requested=str(spent))
    application_submit(cleaned=as_cleaned(body), source="web")
    body = valid_body(fresh_lodge.number, amount_raised="500.00", amount_requested="500.00")
    rejected = application_submit(cleaned=as_cleaned(body), source="web")
    assert rejected.status == Status.REJECTED
    next_start = long_date(current_fiscal_year().end + timedelta(days=1))
    page = status_page(rejected)
    assert f"for up to ${next_cap:,.2f} from {next_start}" in page
    assert f"for up to ${this_cap:,.2f} from" not in page
