"""A lodge never reads our machinery's names: every public page and lodge email, checked."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from grants.budget_rule import NEEDS_REVIEW, Budget, decide
from grants.models import Application, Lodge, NinoxGrant, OutboxMessage, Status
from grants.outbox import outbox_deliver, outbox_enqueue
from grants.rules import current_fiscal_year
from grants.selectors.applications import application_summary, status_url
from grants.services.submit import application_submit
from grants.sync_handlers import GrantHandler
from ninox_backend.types import Record
from tests.factories import ApplicationFactory
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db

# Written out here, not imported: the test must not share the code's own list.
JARGON = re.compile(r"\b(ninox|outbox|webhook|session|sync)\b", re.IGNORECASE)
SHOWN_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label"}


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes, labels in attributes, button values."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        values = dict(attrs)
        self.parts += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def local_path(url: str) -> str:
    return url.removeprefix(settings.PORTAL_BASE_URL)


def unused_lodges(count: int) -> list[Lodge]:
    used = NinoxGrant.objects.filter(fiscal_year=current_fiscal_year().key).values("lodge_id")
    lodges = list(Lodge.objects.filter(active=True).exclude(id__in=used).order_by("number"))
    assert len(lodges) >= count
    return lodges[:count]


def submit(lodge: Lodge, amount: str) -> Application:
    body = valid_body(lodge.number, amount_raised=amount, amount_requested=amount)
    return application_submit(cleaned=as_cleaned(body), source="web")


@pytest.fixture
def every_state(mirrored: Any, django_capture_on_commit_callbacks: Any) -> list[Application]:
    """An application in each state a lodge can meet, the machinery's own reasons included."""
    plain, inactive, in_doubt, unreachable = unused_lodges(4)
    Lodge.objects.filter(id=inactive.id).update(
        active=False, inactive_reason="Active is empty in Ninox"
    )
    GrantHandler().upsert(
        [
            Record(
                id=90001,
                sequence=1,
                fields={"Lodge": in_doubt.ninox_id, "Amount": "x", "Status": "Paid"},
            )
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        made = [
            submit(plain, "500.00"),
            submit(plain, "3600.00"),  # over what the first one left
            submit(inactive, "10.00"),
            submit(in_doubt, "10.00"),
        ]
        mirrored.emulator.faults.configure("503=1")
        made.append(submit(unreachable, "10.00"))
        mirrored.emulator.faults.configure("")
    statuses = [a.status for a in made]
    assert statuses == ["approved", "rejected", *["needs_review"] * 3], statuses
    assert "Ninox" in made[2].review_reason  # staff read the technical reasons
    assert "Ninox" in made[3].review_reason
    now = timezone.now()
    made += [
        ApplicationFactory.create(paid=True, lodge=plain),
        ApplicationFactory.create(
            approved=True, lodge=plain, status=Status.EXPIRED, payment_expires_at=now
        ),
        ApplicationFactory.create(
            approved=True, lodge=plain, payment_expires_at=now - timedelta(hours=1)
        ),
        ApplicationFactory.create(approved=True, lodge=plain, status=Status.CANCELLED),
        ApplicationFactory.create(
            paid=True,
            lodge=plain,
            status=Status.REFUNDED,
            refunded_share=Decimal("250.00"),
            match_released=Decimal("200.00"),
        ),
        ApplicationFactory.create(paid=True, lodge=plain, refunded_share=Decimal("50.00")),
    ]
    return made


def lodge_emails(applications: list[Application]) -> list[Any]:
    """Every kind of email a lodge gets, for every application it fits."""
    for application in applications:
        for kind in (
            OutboxMessage.Kind.EMAIL_LODGE_RECEIPT,
            OutboxMessage.Kind.EMAIL_EXPIRED,
            OutboxMessage.Kind.EMAIL_PAYMENT_LINK,
        ):
            message = outbox_enqueue(
                kind=kind,
                dedupe_key=f"sweep:{kind}:{application.reference}",
                application=application,
                payload={"application_id": application.id},
            )
            assert message is not None
            outbox_deliver(message.id)
        extra: list[tuple[str, dict[str, Any]]] = [
            (OutboxMessage.Kind.EMAIL_CANCELLED, {"message": "The event was called off."})
        ]
        payment = application.payments.filter(status="paid").first()
        if payment is not None:
            extra.append((OutboxMessage.Kind.EMAIL_REFUND_LODGE, {"payment_id": payment.id}))
        for other, payload in extra:
            message = outbox_enqueue(
                kind=other,
                dedupe_key=f"sweep:{other}:{application.reference}",
                application=application,
                payload={"application_id": application.id, **payload},
            )
            assert message is not None
            outbox_deliver(message.id)
    addresses = {a.contact_email for a in applications}
    return [m for m in mail.outbox if set(m.to) <= addresses]


def test_no_public_page_and_no_lodge_email_names_our_machinery(
    every_state: list[Application],
) -> None:
    client = Client()
    found: dict[str, list[str]] = {}

    def check(name: str, text: str) -> None:
        if words := JARGON.findall(text):
            found[name] = words

    check("apply", visible(client.get("/apply/").content.decode()))
    check("apply with errors", visible(client.post("/apply/", {}).content.decode()))
    lodge = every_state[0].lodge
    assert lodge is not None
    check(
        "lodge lookup",
        visible(client.get(f"/apply/lodge/?lodge_number={lodge.number}").content.decode()),
    )
    check("unknown status link", visible(client.get("/status/nothing-here/").content.decode()))
    pages = 0
    for application in every_state:
        page = client.get(local_path(status_url(application)))
        assert page.status_code == 200
        check(
            f"status {application.status} {application.reference}", visible(page.content.decode())
        )
        check(f"API reply {application.reference}", str(application_summary(application)))
        pages += 1
        if application.payment_token:
            pay = f"/pay/{application.payment_token}/"
            for name, response in (
                ("pay", client.get(pay)),
                ("pay after checkout", client.get(pay + "?checkout=done")),
                ("pay: checkout", client.post(pay)),
            ):
                check(f"{name} {application.status}", visible(response.content.decode()))
                pages += 1
    emails = lodge_emails(every_state)
    kinds = {m.subject.split()[0] for m in emails}
    assert len(emails) >= 8
    assert {"Approved:", "Receipt:", "Not"} <= kinds, kinds
    assert any("refund" in m.body for m in emails)
    assert any("called off" in m.body for m in emails)
    for email in emails:
        check(f"email {email.subject}", email.subject + " " + email.body)
        check(f"email {email.subject} (HTML)", visible(email.alternatives[0][0]))
    assert pages >= 15
    assert found == {}


def test_a_review_reason_naming_ninox_reaches_staff_but_the_lodge_reads_plain_words() -> None:
    verdict = decide(
        lodge_number=297,
        lodge_active=False,
        budget=Budget(
            cap=Decimal("4000.00"), used_ninox=Decimal("0.00"), pending_portal=Decimal("0.00")
        ),
        requested=Decimal("100.00"),
        fy=current_fiscal_year(),
        auto_approve_limit=Decimal("50.00"),
        ninox_fresh=False,
        doubts=["Ninox Grants record 7: Amount is not a number", "A plain doubt"],
        inactive_reason="Active is empty in Ninox",
        stale_reason="Ninox unreachable: the budget could not be confirmed",
    )
    assert verdict.outcome == NEEDS_REVIEW
    assert "Ninox Grants record 7" in verdict.reason
    assert "Active is empty in Ninox" in verdict.reason
    assert not JARGON.search(verdict.explanation), verdict.explanation
    for plain in (
        "some of the lodge's figures in our records need checking",
        "A plain doubt",
        "we could not confirm the lodge's figures just now",
        "the lodge is marked inactive in our records",
        "the match is above the auto-approve limit of $50.00",
    ):
        assert plain in verdict.explanation
