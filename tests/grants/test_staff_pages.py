from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants.models import Application, Decision, Lodge
from grants.services.review import application_decide
from portal.lib.errors import PortalError
from tests.conftest import client_for
from tests.grants.conftest import needs_review, submit

pytestmark = pytest.mark.django_db


def test_the_queue_lists_needs_review_first_and_finds_by_lodge_name(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    submit(fresh_lodge.number, "100.00")
    waiting = needs_review(fresh_lodge, "200.00")
    submit(fresh_lodge.number, "300.00")
    client = client_for(reviewer)
    page = client.get("/queue/", {"status": ""}).content.decode()
    assert page.index(waiting.reference) < min(
        page.index(a.reference) for a in Application.objects.exclude(pk=waiting.pk)
    )
    found = client.get(
        "/queue/", {"q": fresh_lodge.name[:8], "status": "needs_review"}
    ).content.decode()
    assert waiting.reference in found
    assert found.count('id="row-MG-') == 1


def test_an_htmx_request_gets_only_the_results_partial(fresh_lodge: Lodge, reviewer: Any) -> None:
    submit(fresh_lodge.number)
    client = client_for(reviewer)
    partial = client.get(
        "/queue/", headers={"HX-Request": "true", "HX-Target": "results"}
    ).content.decode()
    assert 'id="results"' in partial
    assert "<html" not in partial
    assert 'id="header"' not in partial
    full = client.get("/queue/").content.decode()
    assert "<html" in full


def test_a_reviewer_overrides_with_a_message_to_the_lodge_from_the_row(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    application = needs_review(fresh_lodge)
    client = client_for(reviewer)
    refused = client.post(
        f"/applications/{application.reference}/decide/",
        {"outcome": "approved", "message": ""},
        headers={"HX-Request": "true"},
    )
    assert "Message to the lodge: say why" in refused.content.decode()
    application.refresh_from_db()
    assert application.status == "needs_review"
    done = client.post(
        f"/applications/{application.reference}/decide/",
        {"outcome": "approved", "message": "Checked with the lodge"},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert "applicationChanged" in done["HX-Trigger"]
    assert f'id="row-{application.reference}"' in done.content.decode()
    application.refresh_from_db()
    assert application.status == "approved"
    decision = application.decisions.first()
    assert decision is not None
    assert decision.message == "Checked with the lodge"
    assert decision.decided_by == reviewer


def test_approving_over_the_cap_needs_the_admin_role_and_says_so(
    fresh_lodge: Lodge, reviewer: Any, admin_user: Any
) -> None:
    submit(fresh_lodge.number, "3800.00")
    application = needs_review(fresh_lodge, "500.00")
    with pytest.raises(PortalError) as refused:
        application_decide(
            application=application, actor=reviewer, outcome="approved", message="Good cause"
        )
    assert "needs the Admin role" in refused.value.message
    assert "$200.00 remains" in refused.value.message
    application_decide(
        application=application, actor=admin_user, outcome="approved", message="Board exception"
    )
    application.refresh_from_db()
    assert application.status == "approved"
    latest = application.decisions.first()
    assert latest is not None
    assert "over the cap" in latest.explanation


def test_finance_cannot_decide(fresh_lodge: Lodge, finance: Any) -> None:
    application = needs_review(fresh_lodge)
    response = client_for(finance).post(
        f"/applications/{application.reference}/decide/", {"outcome": "approved", "message": "x"}
    )
    assert response.status_code == 403
    assert "Reviewer" in response.content.decode()
    application.refresh_from_db()
    assert application.status == "needs_review"


def test_bulk_approval_reports_each_row_and_the_one_over_the_cap_fails_alone(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    rows = [
        needs_review(fresh_lodge, "1500.00") for _ in range(3)
    ]  # 4,500 > 4,000: the third cannot fit
    client = client_for(reviewer)
    confirm = client.get(
        "/queue/bulk/", {"selected": [r.reference for r in rows], "outcome": "approved"}
    )
    assert "checked again against its lodge" in confirm.content.decode()
    result = client.post(
        "/queue/bulk/",
        {
            "selected": [r.reference for r in rows],
            "outcome": "approved",
            "confirmed": "yes",
            "message": "Batch",
        },
    )
    text = result.content.decode()
    assert text.count("Done") == 2
    assert "needs the Admin role" in text
    assert Application.objects.filter(status="approved").count() == 2


def test_the_application_page_shows_the_decision_figures_and_timeline(
    fresh_lodge: Lodge, finance: Any
) -> None:
    application = submit(fresh_lodge.number)
    page = client_for(finance).get(f"/applications/{application.reference}/").content.decode()
    assert "$4,000.00" in page
    assert "the portal (automatic)" in page  # not the internal name "auto-decision"
    assert "auto-decision" not in page
    assert "submitted" in page
    assert 'name="outcome"' not in page  # finance may read, not decide


def test_the_lodge_page_flags_a_grant_entered_in_ninox_by_hand(
    mirrored: Any, reviewer: Any
) -> None:
    from grants.models import NinoxGrant

    grant = NinoxGrant.objects.filter(reference="").exclude(lodge=None).first()
    assert grant is not None
    assert grant.lodge is not None
    page = client_for(reviewer).get(f"/lodges/{grant.lodge.number}/").content.decode()
    assert "Entered in Ninox by hand" in page


def test_the_lodge_list_shows_budget_bars_with_their_numbers(mirrored: Any, reviewer: Any) -> None:
    page = client_for(reviewer).get("/lodges/", {"q": ""}).content.decode()
    assert "<meter" in page
    assert "of $4,000.00" in page


def test_the_dashboard_shows_counters_and_near_cap_lodges(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    needs_review(fresh_lodge)
    page = client_for(reviewer).get("/").content.decode()
    assert "waiting for review" in page
    assert "Lodges at or near their cap" in page


def count_queries(client: Any, url: str, **kwargs: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **kwargs)
        assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/", "/queue/", "/lodges/", "/queue/?q=Lodge&status=needs_review"])
def test_each_page_makes_a_fixed_number_of_queries_whatever_the_rows(
    url: str, fresh_lodge: Lodge, reviewer: Any, mirrored: Any
) -> None:
    client = client_for(reviewer)
    submit(fresh_lodge.number, "10.00")
    client.get(url)  # warm caches (rules, content types)
    few = count_queries(client, url)
    for lodge in Lodge.objects.filter(active=True)[:15]:
        with contextlib.suppress(PortalError):
            submit(lodge.number, "1.00")
    calls_before = mirrored.emulator.calls
    many = count_queries(client, url)
    assert many == few
    assert mirrored.emulator.calls == calls_before  # no page calls Ninox


def test_the_application_and_lodge_pages_make_a_fixed_number_of_queries(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    client = client_for(reviewer)
    first = submit(fresh_lodge.number, "10.00")
    client.get(f"/applications/{first.reference}/")
    few_app = count_queries(client, f"/applications/{first.reference}/")
    few_lodge = count_queries(client, f"/lodges/{fresh_lodge.number}/")
    for _ in range(5):
        second = submit(fresh_lodge.number, "10.00")
        application_decide(application=second, actor=reviewer, outcome="rejected", message="test")
    assert count_queries(client, f"/applications/{first.reference}/") == few_app
    assert count_queries(client, f"/lodges/{fresh_lodge.number}/") == few_lodge
    assert Decision.objects.count() >= 11
    assert Decimal("0") >= 0


def test_the_queue_counters_refresh_alone_after_a_decision(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    needs_review(fresh_lodge)
    client = client_for(reviewer)
    page = client.get("/queue/").content.decode()
    assert "1 waiting for review" in page
    Application.objects.update(status="approved")
    counters = client.get(
        "/queue/", headers={"HX-Request": "true", "HX-Target": "queue-counters"}
    ).content.decode()
    assert "0 waiting for review" in counters
    assert "1 approved, not paid" in counters
    assert 'id="results"' not in counters


def test_the_queue_filters_by_who_decided(fresh_lodge: Lodge, reviewer: Any) -> None:
    auto = submit(fresh_lodge.number, "100.00")
    reviewed = needs_review(fresh_lodge, "200.00")
    application_decide(application=reviewed, actor=reviewer, outcome="approved", message="Checked")
    client = client_for(reviewer)
    by_reviewer = client.get("/queue/", {"kind": "review"}).content.decode()
    assert reviewed.reference in by_reviewer
    assert auto.reference not in by_reviewer
    automatic = client.get("/queue/", {"kind": "auto"}).content.decode()
    assert auto.reference in automatic
    assert reviewed.reference not in automatic


def test_the_lodge_list_pages_through_the_lodges_keeping_the_search(
    mirrored: Any, reviewer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grants.views.lodges.PER_PAGE", 2)
    assert Lodge.objects.count() > 4
    page = client_for(reviewer).get("/lodges/", {"q": "", "page": "2"}).content.decode()
    assert "Page 2 of " in page
    assert '<a href="?q=&amp;page=1">Previous</a>' in page
    assert '<a href="?q=&amp;page=3">Next</a>' in page


def test_the_lodge_page_does_not_warn_about_ninox_grants_from_before_the_portal(
    mirrored: Any, reviewer: Any
) -> None:
    from grants.models import NinoxGrant

    grant = NinoxGrant.objects.exclude(reference="").exclude(lodge=None).first()
    assert grant is not None
    assert grant.lodge is not None
    page = client_for(reviewer).get(f"/lodges/{grant.lodge.number}/").content.decode()
    assert grant.reference in page
    assert "From before the portal" in page
    assert "Not in the portal" not in page


def test_the_lodge_list_shows_which_column_it_is_sorted_by_and_which_way(
    mirrored: Any, reviewer: Any
) -> None:
    client = client_for(reviewer)
    by_number = client.get("/lodges/").content.decode()
    assert by_number.count("aria-sort=") == 1
    assert 'aria-sort="ascending"><a href="?q=&amp;fy=' in by_number
    by_used = client.get("/lodges/", {"sort": "-used"}).content.decode()
    assert by_used.count("aria-sort=") == 1
    assert 'aria-sort="descending" class="num"><a' in by_used
    assert 'Used <span aria-hidden="true">▼</span>' in by_used
