"""An application's timeline reads as sentences: one row per action, raw change behind a toggle."""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest

from grants.models import Lodge, OutboxMessage
from grants.outbox import outbox_deliver
from grants.payments.provider import DevProvider
from grants.selectors.timeline import application_timeline
from grants.services.payments import checkout_start, payment_record_from_webhook
from tests.conftest import client_for
from tests.factories import ApplicationFactory
from tests.grants.stripe_events import paid_session

pytestmark = pytest.mark.django_db

JARGON = re.compile(r"\b(ninox write-back|outbox|webhook|session|auto-decision)\b", re.I)


@pytest.fixture
def paid_and_written(mirrored: Any, settings: Any) -> Any:
    settings.STRIPE_SECRET_KEY = None
    lodge = Lodge.objects.filter(active=True).order_by("number").first()
    application = ApplicationFactory.create(
        approved=True,
        lodge=lodge,
        amount_raised=Decimal("1250.00"),
        amount_requested=Decimal("1000.00"),
    )
    checkout_start(application=application, provider=DevProvider())
    payment_record_from_webhook(
        event={
            "id": f"evt_{application.reference}",
            "type": "checkout.session.completed",
            "data": {"object": paid_session(application)},
        }
    )
    for message in OutboxMessage.objects.filter(application=application):
        assert outbox_deliver(message.id) == "done"
    return application


def test_a_paid_grant_reads_as_the_lodge_paying_and_the_grant_written_to_ninox(
    paid_and_written: Any,
) -> None:
    application = paid_and_written
    said = [entry.what for entry in application_timeline(application)]
    number = application.lodge_number
    assert f"Lodge {number} started paying its share of $1,250.00 by card" in said
    assert f"Lodge {number} paid $1,250.00 by card" in said
    assert f"Grant {application.reference} written to Ninox" in said
    assert f"Receipt to the lodge sent to {application.contact_email}" in said
    assert said.count(f"Lodge {number} paid $1,250.00 by card") == 1
    for sentence in said:
        assert not JARGON.search(sentence), sentence
        assert not re.search(r"\b(application|payment)\.[a-z_]+", sentence), sentence


def test_the_page_shows_each_entry_with_its_date_on_one_line_and_the_raw_change_in_details(
    paid_and_written: Any, reviewer: Any
) -> None:
    html = client_for(reviewer).get(f"/applications/{paid_and_written.reference}/").content.decode()
    timeline = html[html.index('id="h-timeline"') :]
    items = re.findall(r"<li>(.*?)</li>", timeline, re.S)
    paid = next(item for item in items if "paid $1,250.00 by card" in unescape(item))
    assert re.match(r'<time class="when" datetime="[^"]+">\w{3} \d+, \d{4}, \d\d:\d\d</time>', paid)
    details = re.search(
        r"<details class=\"audit-raw\"><summary>Details</summary>(.*?)</details>", paid, re.S
    )
    assert details is not None
    assert "application.paid" in details.group(1)
    assert "by stripe webhook" not in timeline


def test_a_reviewers_decision_names_the_reviewer(mirrored: Any, reviewer: Any) -> None:
    from grants.services.review import application_decide

    lodge = Lodge.objects.filter(active=True).order_by("number").first()
    application = ApplicationFactory.create(needs_review=True, lodge=lodge)
    application_decide(
        application=application, actor=reviewer, outcome="approved", message="Checked by phone"
    )
    said = [entry.what for entry in application_timeline(application)]
    assert f"Rita approved {application.reference}" in said
