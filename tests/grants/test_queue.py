"""Issue 20's queue: it opens on "Needs review", offers only the decisions the signed-in role
can take (fetched on demand, so the list stays small), keeps what was typed on an error."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Application, Lodge
from tests.conftest import client_for
from tests.factories import ApplicationFactory
from tests.grants.test_staff_pages import needs_review, submit

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def test_the_queue_opens_on_needs_review_and_the_filter_can_be_removed(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    decided = submit(fresh_lodge.number, "100.00")
    waiting = needs_review(fresh_lodge, "200.00")
    client = client_for(reviewer)
    page = client.get("/queue/").content.decode()
    assert waiting.reference in page
    assert decided.reference not in page
    assert '<option value="needs_review" selected>' in page
    assert "Showing “Needs review” only" in page
    assert 'href="/queue/?status="' in page
    everything = client.get("/queue/", {"status": ""}).content.decode()
    assert decided.reference in everything
    assert waiting.reference in everything


def test_the_list_carries_no_decision_form_only_a_decide_link_per_row(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    waiting = needs_review(fresh_lodge)
    page = client_for(reviewer).get("/queue/").content.decode()
    row = page[page.index(f'id="row-{waiting.reference}"') :]
    row = row[: row.index("</tr>")]
    # portal.js fetches the row expanded from the reference link's URL plus "decide/".
    assert f'<a href="/applications/{waiting.reference}/">' in row
    assert '<button type="button" data-decide>Decide</button>' in row
    assert 'name="message"' not in page
    assert "hx-post" not in page


def test_the_decide_row_offers_a_primary_approve_and_a_danger_reject(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    waiting = needs_review(fresh_lodge, "200.00")
    row = client_for(reviewer).get(f"/applications/{waiting.reference}/decide/", headers=HTMX)
    html = row.content.decode()
    assert row.status_code == 200
    assert "<html" not in html
    assert 'class="button-primary" name="outcome" value="approved"' in html
    assert 'class="button-danger" name="outcome" value="rejected"' in html
    closed = client_for(reviewer).get(
        f"/applications/{waiting.reference}/decide/", {"close": "1"}, headers=HTMX
    )
    assert 'name="message"' not in closed.content.decode()


def test_a_reviewer_is_not_offered_approval_over_the_cap_and_is_told_an_admin_can(
    fresh_lodge: Lodge, reviewer: Any, admin_user: Any
) -> None:
    submit(fresh_lodge.number, "3800.00")
    over = needs_review(fresh_lodge, "500.00")
    url = f"/applications/{over.reference}/decide/"
    as_reviewer = client_for(reviewer).get(url, headers=HTMX).content.decode()
    assert 'value="approved"' not in as_reviewer
    assert 'value="rejected"' in as_reviewer
    assert "Only an Admin can approve this" in as_reviewer
    assert "$200.00 remains" in as_reviewer
    as_admin = client_for(admin_user).get(url, headers=HTMX).content.decode()
    assert 'value="approved"' in as_admin
    assert "Only an Admin" not in as_admin


def test_an_error_keeps_what_was_typed(fresh_lodge: Lodge, admin_user: Any) -> None:
    waiting = needs_review(fresh_lodge)
    response = client_for(admin_user).post(
        f"/applications/{waiting.reference}/decide/",
        {"outcome": "maybe", "message": "Checked the receipts", "internal_note": "Call Tom"},
        headers=HTMX,
    )
    html = response.content.decode()
    assert 'role="alert"' in html
    assert 'value="Checked the receipts"' in html
    assert 'value="Call Tom"' in html
    waiting.refresh_from_db()
    assert waiting.status == "needs_review"


def test_a_decide_link_without_htmx_goes_to_the_application_page(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    waiting = needs_review(fresh_lodge)
    response = client_for(reviewer).get(f"/applications/{waiting.reference}/decide/")
    assert response.status_code == 302
    assert response["Location"] == f"/applications/{waiting.reference}/"


def test_the_list_partial_for_a_page_of_50_rows_is_at_most_20_kb(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    # Rows like bench/pages.py's (whose README row is the measure: no review reason;
    # one adds about 55 bytes a row).
    Application.objects.bulk_create(
        ApplicationFactory.build(
            reference=f"MG-2026-{i:05d}",
            lodge=fresh_lodge,
            charity_name=f"Riverside Food Bank {i}",
            contact_name="Alexandra Montgomery-Smythe",
            purpose="Winter appeal",
            amount_raised=Decimal("1250.00"),
            amount_requested=Decimal("1250.00"),
            needs_review=True,
            review_reason="",
        )
        for i in range(60)
    )
    partial = client_for(reviewer).get("/queue/", headers={**HTMX, "HX-Target": "results"})
    assert partial.content.decode().count('id="row-MG-') == 50
    assert len(partial.content) <= 20_000


@pytest.mark.parametrize(
    ("url", "most"),
    [("/queue/", 12), ("/queue/?status=&q=Lodge&sort=-amount", 12), ("/", 15)],
)
def test_the_queue_and_the_dashboard_stay_within_their_query_budget(
    fresh_lodge: Lodge, reviewer: Any, url: str, most: int
) -> None:
    for amount in ("100.00", "200.00", "300.00"):
        needs_review(fresh_lodge, amount)
    client = client_for(reviewer)
    client.get(url)  # warm per-process caches (content types, rules)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    # The savepoints around the session's save exist only inside the test's transaction (a
    # request in production runs in autocommit, as bench/pages.py's do): not the page's.
    made = [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(made) <= most, [sql[:80] for sql in made]
