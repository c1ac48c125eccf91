"""The cancel and refund pages: who sees the actions, the forms, their errors, the confirmation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from grants.models import Application, Lodge, Refund, Status
from grants.selectors.timeline import application_timeline
from tests.audit_log import audit_sentences
from tests.conftest import client_for
from tests.factories import ApplicationFactory
from tests.grants.stripe_events import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dev_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = None
    settings.STRIPE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def paid(fresh_lodge: Lodge) -> Application:
    return ApplicationFactory.create(
        paid=True,
        lodge=fresh_lodge,
        reference="MG-2099-00401",
        payment__stripe_session_id="cs_test_p1",
    )


@pytest.fixture
def approved(fresh_lodge: Lodge) -> Application:
    return ApplicationFactory.create(approved=True, lodge=fresh_lodge, reference="MG-2099-00402")


def page(user: Any, application: Application) -> str:
    return client_for(user).get(f"/applications/{application.reference}/").content.decode()


def test_finance_sees_the_refund_action_on_a_paid_grant_and_a_reviewer_does_not(
    paid: Application, finance: Any, reviewer: Any
) -> None:
    assert "Refund the lodge's share…" in page(finance, paid)
    assert "Refund the lodge" not in page(reviewer, paid)


def test_a_reviewer_sees_the_cancel_action_on_an_approval_and_finance_does_not(
    approved: Application, finance: Any, reviewer: Any
) -> None:
    assert "Cancel the approval…" in page(reviewer, approved)
    assert "Cancel the approval" not in page(finance, approved)


def test_a_refund_is_confirmed_with_its_figures_before_stripe_is_asked(
    paid: Application, finance: Any
) -> None:
    client = client_for(finance)
    url = f"/applications/{paid.reference}/refund/"

    review = client.post(url, {"amount": "$100.00", "reason": "Fewer tickets"})

    text = " ".join(review.content.decode().split())
    assert review.status_code == 200
    assert "Please confirm" in text
    # Share $250.00, match $200.00: min(200, 150) stays, $50.00 returns.
    assert "Stripe will refund <strong>$100.00</strong> of the lodge's share" in text.replace(
        "&#x27;", "'"
    )
    assert "The match that stays is <strong>$150.00</strong>, so $50.00 returns" in text
    assert not Refund.objects.exists()

    done = client.post(url, {"amount": "100.00", "reason": "Fewer tickets", "confirm": "yes"})

    assert done.status_code == 302
    assert done["Location"] == f"/applications/{paid.reference}/"
    paid.refresh_from_db()
    assert paid.refunded_share == Decimal("100.00")
    after = " ".join(client.get(done["Location"]).content.decode().split())
    assert "Refunded to the lodge</th><td>$100.00 of its $250.00 share" in after
    assert "Match that stays</th><td>$150.00 ($50.00 returned to the lodge" in after
    assert "partly refunded" in after  # the timeline, in plain words


def test_a_full_refund_from_the_page_leaves_the_grant_refunded(
    paid: Application, finance: Any
) -> None:
    client = client_for(finance)
    url = f"/applications/{paid.reference}/refund/"
    review = client.post(url, {"amount": "", "reason": "Event called off"})
    assert "the grant becomes <strong>refunded</strong>" in review.content.decode()

    client.post(url, {"amount": "250.00", "reason": "Event called off", "confirm": "yes"})

    paid.refresh_from_db()
    assert paid.status == Status.REFUNDED
    # The timeline tells it in the order it happened: asked, made, refunded.
    said = [entry.what for entry in application_timeline(paid)]
    asked = next(i for i, w in enumerate(said) if "asked Stripe to refund $250.00" in w)
    made = said.index("Refund of $250.00 of the lodge's share succeeded (asked by fin)")
    refunded = next(i for i, w in enumerate(said) if "refunded in full" in w)
    assert asked < made < refunded, said


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"amount": "300", "reason": "Why"}, "Amount must be at most $250.00"),
        ({"amount": "-5", "reason": "Why"}, "Amount must not be negative."),
        ({"amount": "10", "reason": "   "}, "Reason: say why, in a few words."),
    ],
)
def test_bad_input_shows_the_form_again_naming_the_field_and_rule(
    paid: Application, finance: Any, data: dict[str, str], error: str
) -> None:
    response = client_for(finance).post(f"/applications/{paid.reference}/refund/", data)

    assert response.status_code == 422
    assert error in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Refund.objects.exists()


def test_a_confirmed_refund_with_a_changed_amount_is_still_checked(
    paid: Application, finance: Any
) -> None:
    response = client_for(finance).post(
        f"/applications/{paid.reference}/refund/",
        {"amount": "999.00", "reason": "Why", "confirm": "yes"},
    )
    assert response.status_code == 422
    assert "Amount must be at most $250.00" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_reviewer_cannot_open_or_post_the_refund_page(paid: Application, reviewer: Any) -> None:
    client = client_for(reviewer)
    url = f"/applications/{paid.reference}/refund/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"amount": "", "reason": "x", "confirm": "yes"}).status_code == 403
    assert not Refund.objects.exists()


def test_the_refund_page_of_an_unpaid_application_says_why_not(
    approved: Application, finance: Any
) -> None:
    response = client_for(finance).get(f"/applications/{approved.reference}/refund/")
    assert "only a paid grant can be refunded" in response.content.decode()


def test_cancelling_needs_a_message_to_the_lodge(approved: Application, reviewer: Any) -> None:
    client = client_for(reviewer)
    url = f"/applications/{approved.reference}/cancel/"
    assert "Message to the lodge" in client.get(url).content.decode()

    refused = client.post(url, {"message": "  "})

    assert refused.status_code == 422
    assert "Message to the lodge: say why, in a few words." in refused.content.decode()
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED

    done = client.post(url, {"message": "The event was called off."})

    assert done.status_code == 302
    approved.refresh_from_db()
    assert approved.status == Status.CANCELLED
    text = " ".join(client.get(done["Location"]).content.decode().split())
    assert "is cancelled: its payment link no longer works" in text
    assert "Message to the lodge: The event was called off." in text  # the timeline


def test_a_message_too_long_for_the_lodge_is_refused_naming_the_limit(
    approved: Application, reviewer: Any
) -> None:
    response = client_for(reviewer).post(
        f"/applications/{approved.reference}/cancel/", {"message": "x" * 1001}
    )
    assert response.status_code == 422
    assert "Message to the lodge: at most 1000 characters." in response.content.decode()


def test_finance_cannot_cancel(approved: Application, finance: Any) -> None:
    response = client_for(finance).post(
        f"/applications/{approved.reference}/cancel/", {"message": "x"}
    )
    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.status == Status.APPROVED


def test_the_timeline_and_the_lodge_page_say_what_a_stripe_side_refund_did(
    paid: Application, finance: Any
) -> None:
    import time

    from grants.models import Payment
    from tests.grants.stripe_events import charge_refunded, event_body, post, refund

    payment = Payment.objects.get(application=paid)
    now = int(time.time())
    post(
        event_body(
            "refund.created", refund(payment, "re_test_t", "50.00", "succeeded", created=now)
        )
    )
    post(event_body("charge.refunded", charge_refunded(payment, "50.00"), created=now))

    text = " ".join(page(finance, paid).split()).replace("&#x27;", "'")
    assert (
        "Refund of $50.00 of the lodge's share succeeded (made in Stripe)</strong>"
        '<span class="timeline-detail">re_test_t</span>'
    ) in text
    assert (
        f"{paid.reference} partly refunded: $50.00 of the lodge's share back, "
        "$200.00 of the match stays</strong>"
    ) in text
    assert (
        "Stripe refunded $50.00 of the lodge's $250.00 share; the match that stays is "
        "$200.00, and $0.00 returns to"
    ) in text
    assert paid.lodge is not None
    lodge_page = client_for(finance).get(f"/lodges/{paid.lodge.number}/").content.decode()
    assert "Paid: $50.00 of the share refunded, $200.00 of the match stays" in lodge_page


def test_the_lodges_status_page_says_a_refund_plainly(paid: Application, finance: Any) -> None:
    from django.test import Client

    from grants.selectors.applications import status_url
    from grants.services.refunds import refund_request

    refund_request(application=paid, actor=finance, reason="Part", amount="100.00")
    paid.refresh_from_db()
    partly = " ".join(Client().get(status_url(paid)).content.decode().split())
    assert (
        "The foundation refunded $100.00 of your lodge&#x27;s share. The match follows the "
        "share: $150.00 of it stays granted, and $50.00 is back in your lodge&#x27;s budget"
    ) in partly.replace("lodge's", "lodge&#x27;s")

    refund_request(application=paid, actor=finance, reason="The rest")
    paid.refresh_from_db()
    full = Client().get(status_url(paid)).content.decode()
    assert "Refunded: your lodge's share was paid back" in full


def test_the_audit_log_says_a_refund_plainly(
    paid: Application, finance: Any, admin_user: Any
) -> None:
    client_for(finance).post(
        f"/applications/{paid.reference}/refund/",
        {"amount": "100.00", "reason": "Fewer tickets", "confirm": "yes"},
    )

    html = client_for(admin_user).get("/manage/audit/", {"object": paid.reference}).content.decode()
    rows = audit_sentences(html)
    assert rows, "the audit log shows no row"
    assert any(
        row.startswith(
            f"Fin asked Stripe to refund $100.00 of the lodge's share of {paid.reference}"
        )
        for row in rows
    ), rows
    assert any(
        row.startswith(f"{paid.reference} partly refunded: $100.00 of the lodge's share back")
        for row in rows
    ), rows
    assert not any("application." in row for row in rows)  # no raw action names
