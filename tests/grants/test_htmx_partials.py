"""Issue 20: every hx-get answers with the fragment it swaps (no whole page plus hx-select),
and the dashboard's counters refresh from a small endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from grants.models import Lodge
from tests.conftest import client_for
from tests.grants.conftest import needs_review

pytestmark = pytest.mark.django_db


def template_files() -> list[Path]:
    roots = [Path(settings.BASE_DIR) / "templates"]
    return [p for root in roots for p in root.rglob("*.html")]


def test_no_template_selects_from_a_whole_page() -> None:
    files = template_files()
    assert files  # the walk found the templates
    assert [str(p) for p in files if "hx-select" in p.read_text()] == []


def test_the_dashboard_counters_come_from_their_own_endpoint_as_a_fragment(
    fresh_lodge: Lodge, reviewer: Any
) -> None:
    needs_review(fresh_lodge)
    client = client_for(reviewer)
    dashboard = client.get("/").content.decode()
    assert 'hx-get="/dashboard/counters/?fy=' in dashboard
    counters = client.get("/dashboard/counters/", headers={"HX-Request": "true"})
    html = counters.content.decode()
    assert counters.status_code == 200
    assert html.lstrip().startswith('<div id="counters"')
    assert "<html" not in html
    assert "Lodges at or near their cap" not in html
    assert '<span class="count">1</span> waiting for review' in html


@pytest.mark.parametrize("region", ["actions", "emails"])
def test_the_application_page_answers_a_region_with_that_region_alone(
    fresh_lodge: Lodge, reviewer: Any, region: str
) -> None:
    application = needs_review(fresh_lodge)
    html = (
        client_for(reviewer)
        .get(
            f"/applications/{application.reference}/",
            headers={"HX-Request": "true", "HX-Target": region},
        )
        .content.decode()
    )
    assert html.lstrip().startswith(f'<section id="{region}"')
    assert "<html" not in html


@pytest.mark.parametrize("path", ["/reports/", "/reports/ledger/", "/reports/reconciliation/"])
def test_a_report_filter_answers_with_its_results_alone(finance: Any, path: str) -> None:
    response = client_for(finance).get(path, headers={"HX-Request": "true", "HX-Target": "results"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="results"' in html
    assert "<html" not in html


def test_a_lodge_list_search_answers_with_its_results_alone(admin_user: Any) -> None:
    response = client_for(admin_user).get(
        "/lodges/", {"q": "Lodge"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="results"' in html
    assert "<html" not in html
    assert "<html" in client_for(admin_user).get("/lodges/").content.decode()
