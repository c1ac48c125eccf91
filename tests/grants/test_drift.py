"""The drift check: the mirror's FY totals against Ninox's own sum, and what a mismatch does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from django.test import Client

from grants.drift import DRIFT_CHECK, drift_check, drift_doubts, ninox_totals, sums_query
from grants.models import Application, DriftFinding, Lodge, NinoxGrant, Status
from grants.money import format_money
from grants.rules import current_fiscal_year
from grants.selectors.budgets import used_in_ninox
from grants.services.submit import application_submit
from grants.sync_handlers import GrantHandler
from ninox_backend.ninox.connection import database
from ninox_backend.ninox.mirror import sync_mirror
from portal.models import ServiceCheck
from tests.conftest import client_for
from tests.factories import NinoxGrantFactory
from tests.grants.conftest import as_cleaned, valid_body

pytestmark = pytest.mark.django_db


def lodge_with_grants(min_grants: int = 1) -> Lodge:
    """A lodge with at least ``min_grants`` counted grants in the mirror this FY."""
    fy = current_fiscal_year().key
    for lodge in Lodge.objects.filter(active=True).order_by("number"):
        counted = NinoxGrant.objects.filter(lodge=lodge, fiscal_year=fy).exclude(
            status=NinoxGrant.CANCELLED
        )
        if counted.count() >= min_grants:
            return lodge
    raise AssertionError("the demo has no such lodge")


def add_fractional_grants(ninox: Any, lodge: Lodge) -> None:
    """Two grants of $100.005 in Ninox: Ninox sums $200.01, a cent-rounding mirror cannot."""
    day = current_fiscal_year().start.isoformat()
    ninox.emulator.insert(
        ninox.team_id,
        ninox.database_id,
        "Grants",
        [
            {"Lodge": lodge.ninox_id, "Amount": Decimal("100.005"), "Grant Date": day}
            for _ in range(2)
        ],
    )


@pytest.fixture
def refusing_query(mirrored: Any) -> Any:
    """The demo Ninox, except that ``/query`` answers 403 (as a plan without it might)."""
    mirrored.emulator.faults.configure("query_refused")
    return mirrored


def test_ninox_totals_match_the_mirror_on_a_freshly_synced_demo(mirrored: Any) -> None:
    fy = current_fiscal_year()
    lodges = list(Lodge.objects.order_by("number"))
    totals = ninox_totals([lodge.ninox_id for lodge in lodges], fy)
    from grants.selectors.budgets import used_in_ninox

    assert any(total > 0 for total in totals.values())
    for lodge in lodges:
        assert totals[lodge.ninox_id] == used_in_ninox(lodge.id, fy.key), lodge.number


def test_the_query_is_built_from_literals_and_quoted_names() -> None:
    text = str(sums_query([12, 3], current_fiscal_year()))
    assert "(Id = 12 or Id = 3)" in text
    assert "'Grant Date' >= date(" in text
    assert 'Status != "Cancelled"' in text


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_a_clean_check_compares_every_active_lodge_in_one_call(mirrored: Any) -> None:
    fy = current_fiscal_year().key
    with_grants = set(
        NinoxGrant.objects.filter(fiscal_year=fy, lodge__isnull=False).values_list(
            "lodge_id", flat=True
        )
    )
    calls = mirrored.emulator.calls

    report = drift_check()

    assert mirrored.emulator.calls - calls == 1
    assert report.available
    assert report.compared == len(with_grants)
    assert report.mismatched == []
    assert not DriftFinding.objects.exists()
    assert ServiceCheck.objects.get(name=DRIFT_CHECK).ok


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_a_missed_update_is_found_and_repaired_by_rereading_the_lodge(mirrored: Any) -> None:
    lodge = lodge_with_grants()
    grant = NinoxGrant.objects.filter(lodge=lodge, fiscal_year=current_fiscal_year().key).exclude(
        status=NinoxGrant.CANCELLED
    )[0]
    true_amount = grant.amount
    # The mirror missed an edit made in Ninox: it holds a wrong amount.
    NinoxGrant.objects.filter(id=grant.id).update(amount=true_amount + Decimal("250.00"))

    report = drift_check()

    assert report.mismatched == [lodge.number]
    assert report.repaired == [lodge.number]
    grant.refresh_from_db()
    assert grant.amount == true_amount
    finding = DriftFinding.objects.get(lodge=lodge)
    assert finding.resolved_at is not None
    assert finding.reread_at is not None
    assert finding.mirror_total - finding.ninox_total == Decimal("250.00")
    assert drift_doubts(lodge.id) == []


def test_a_grant_deleted_in_ninox_but_kept_in_the_mirror_is_removed_by_the_reread(
    mirrored: Any,
) -> None:
    lodge = lodge_with_grants()
    ghost = NinoxGrant.objects.filter(lodge=lodge).first()
    assert ghost is not None
    NinoxGrantFactory.create(
        ninox_id=99999,
        lodge=lodge,
        amount=Decimal("10.00"),
        grant_date=current_fiscal_year().start,
    )

    report = drift_check()

    assert report.repaired == [lodge.number]
    assert not NinoxGrant.objects.filter(ninox_id=99999).exists()


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_figures_that_still_differ_stay_open_and_send_applications_to_review(
    mirrored: Any,
) -> None:
    lodge = lodge_with_grants()
    add_fractional_grants(mirrored, lodge)
    sync_mirror()

    report = drift_check()

    assert report.still_open == [lodge.number]
    finding = DriftFinding.objects.get(lodge=lodge, resolved_at__isnull=True)
    assert finding.ninox_total - finding.mirror_total != 0
    doubts = drift_doubts(lodge.id)
    assert len(doubts) == 1
    assert "$" in doubts[0]
    assert current_fiscal_year().label in doubts[0]
    assert not ServiceCheck.objects.get(name=DRIFT_CHECK).ok

    application = application_submit(
        cleaned=as_cleaned(
            valid_body(lodge.number, amount_raised="10.00", amount_requested="10.00")
        ),
        source="web",
    )
    assert application.status == Status.NEEDS_REVIEW
    assert "Ninox's own total" in application.decisions.latest("id").reason


def test_a_later_clean_check_resolves_an_open_finding(mirrored: Any) -> None:
    lodge = lodge_with_grants()
    add_fractional_grants(mirrored, lodge)
    sync_mirror()
    drift_check()
    assert drift_doubts(lodge.id)
    # Staff correct the amounts in Ninox; the next sync brings them.
    table = database().table("Grants")
    for record in table.all():
        if record.fields.get("Amount") == Decimal("100.005"):
            table.update(record.id, {"Amount": Decimal("100.00")})
    sync_mirror()

    report = drift_check()

    assert report.resolved == 1
    assert drift_doubts(lodge.id) == []
    assert DriftFinding.objects.get(lodge=lodge).resolution


@pytest.mark.parametrize("ninox_dialect", ["docs", "legacy"])
def test_a_refused_query_makes_the_check_not_available_and_nothing_else(
    refusing_query: Any, reviewer: Any
) -> None:
    lodge = lodge_with_grants()

    report = drift_check()

    assert not report.available
    assert "403" in report.detail or "refused" in report.detail
    check = ServiceCheck.objects.get(name=DRIFT_CHECK)
    assert not check.ok
    assert check.detail.startswith("not available")
    staff = Client()
    staff.force_login(reviewer)
    assert "not available: Ninox refused the query" in staff.get("/health/").content.decode()
    assert drift_doubts(lodge.id) == []
    application = application_submit(
        cleaned=as_cleaned(
            valid_body(lodge.number, amount_raised="10.00", amount_requested="10.00")
        ),
        source="web",
    )
    assert application.status == Status.APPROVED


def test_a_profile_without_query_skips_the_check_without_a_call(mirrored: Any) -> None:
    from ninox_backend.ninox.profile_store import save_profile
    from ninox_backend.profile import CONSERVATIVE

    save_profile(
        type(CONSERVATIVE)(**{**CONSERVATIVE.__dict__, "query": False})  # the doctor's verdict
    )
    calls = mirrored.emulator.calls

    report = drift_check()

    assert not report.available
    assert mirrored.emulator.calls == calls


def edit_in_ninox(ninox: Any, grant: NinoxGrant, **values: Any) -> None:
    """Change a grant in the emulator's store, behind the portal's sync."""
    store = ninox.emulator.store
    db = store.database(ninox.team_id, ninox.database_id)
    store.save(db, store.table(db, "Grants"), [(grant.ninox_id, values)])


def counted_grant(lodge: Lodge) -> NinoxGrant:
    return NinoxGrant.objects.filter(lodge=lodge, fiscal_year=current_fiscal_year().key).exclude(
        status=NinoxGrant.CANCELLED
    )[0]


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_full_read_finds_an_amount_edited_behind_the_mirror(
    mirrored: Any, ninox_dialect: str, reviewer: Any
) -> None:
    fy = current_fiscal_year()
    lodge = lodge_with_grants()
    grant = counted_grant(lodge)
    counted_before = grant.amount
    portal_total = used_in_ninox(lodge.id, fy.key)
    edit_in_ninox(mirrored, grant, Amount=grant.amount + Decimal("250.00"))
    assert used_in_ninox(lodge.id, fy.key) == portal_total  # the mirror has not seen it

    sync_mirror(full=True, tables=["grants"])  # the next full read of Grants

    finding = DriftFinding.objects.get(lodge=lodge)
    assert finding.fiscal_year == fy.key
    assert finding.mirror_total == portal_total
    assert finding.ninox_total == portal_total + Decimal("250.00")
    assert finding.reread_at is not None
    # The full read then updated the mirror (the classic check's re-read): they agree.
    grant.refresh_from_db()
    assert grant.amount == finding.ninox_total - portal_total + counted_before
    assert used_in_ninox(lodge.id, fy.key) == finding.ninox_total
    assert finding.resolved_at is not None
    assert "full read" in finding.resolution
    stored = ServiceCheck.objects.get(name=DRIFT_CHECK)
    assert stored.ok
    assert "by the full read of every grant" in stored.detail
    assert "differed: 1, repaired by re-reading: 1, still differing: 0" in stored.detail
    assert f"lodge {lodge.number}" in stored.detail
    assert format_money(finding.ninox_total) in stored.detail
    assert format_money(portal_total) in stored.detail
    page = client_for(reviewer).get("/health/").content.decode()
    assert f"lodge {lodge.number} {fy.label}: Ninox {format_money(finding.ninox_total)}" in page


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_full_read_finds_a_grant_inserted_while_the_mirror_is_stale(
    mirrored: Any, ninox_dialect: str
) -> None:
    fy = current_fiscal_year()
    lodge = lodge_with_grants()
    portal_total = used_in_ninox(lodge.id, fy.key)
    mirrored.emulator.insert(
        mirrored.team_id,
        mirrored.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("123.45"),
                "Grant Date": fy.start.isoformat(),
            }
        ],
    )
    # A cancelled one and one of last year count in neither total.
    mirrored.emulator.insert(
        mirrored.team_id,
        mirrored.database_id,
        "Grants",
        [
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("9.00"),
                "Grant Date": fy.start.isoformat(),
                "Status": NinoxGrant.CANCELLED,
            },
            {
                "Lodge": lodge.ninox_id,
                "Amount": Decimal("7.00"),
                "Grant Date": (fy.start - timedelta(days=1)).isoformat(),
            },
        ],
    )

    sync_mirror(full=True, tables=["grants"])

    finding = DriftFinding.objects.get(lodge=lodge)
    assert (finding.mirror_total, finding.ninox_total) == (
        portal_total,
        portal_total + Decimal("123.45"),
    )
    assert used_in_ninox(lodge.id, fy.key) == portal_total + Decimal("123.45")
    assert DriftFinding.objects.count() == 1


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_a_full_read_that_agrees_opens_no_finding(
    mirrored: Any, ninox_dialect: str
) -> None:
    fy = current_fiscal_year().key
    with_grants = set(
        NinoxGrant.objects.filter(fiscal_year=fy, lodge__isnull=False).values_list(
            "lodge_id", flat=True
        )
    )

    sync_mirror(full=True, tables=["grants"])

    assert not DriftFinding.objects.exists()
    stored = ServiceCheck.objects.get(name=DRIFT_CHECK)
    assert stored.ok
    assert stored.detail == (
        f"by the full read of every grant: {len(with_grants)} lodge(s) compared"
    )


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_a_difference_the_full_read_cannot_settle_stays_open(
    mirrored: Any, ninox_dialect: str
) -> None:
    fy = current_fiscal_year()
    lodge = lodge_with_grants()
    grant = counted_grant(lodge)
    portal_total = used_in_ninox(lodge.id, fy.key)
    edit_in_ninox(mirrored, grant, Amount=grant.amount + Decimal("40.00"))
    # The mirror's handler keeps the old amount (a defect the comparison is there to show).
    with patch.object(GrantHandler, "upsert", lambda self, records: None):
        sync_mirror(full=True, tables=["grants"])

    finding = DriftFinding.objects.get(lodge=lodge, resolved_at__isnull=True)
    assert finding.ninox_total == portal_total + Decimal("40.00")
    assert finding.mirror_total == portal_total
    assert drift_doubts(lodge.id)  # its applications go to review, as on the classic API
    assert not ServiceCheck.objects.get(name=DRIFT_CHECK).ok

    sync_mirror(full=True, tables=["grants"])  # a full read that updates the mirror

    finding.refresh_from_db()
    assert finding.resolved_at is not None
    assert drift_doubts(lodge.id) == []


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_the_hourly_check_keeps_the_full_reads_result_without_a_call(
    mirrored: Any, ninox_dialect: str
) -> None:
    sync_mirror(full=True, tables=["grants"])
    stored = ServiceCheck.objects.get(name=DRIFT_CHECK)
    calls = mirrored.emulator.calls

    report = drift_check()

    assert not report.available
    assert "the full read every hour compares" in report.detail
    assert mirrored.emulator.calls == calls
    assert ServiceCheck.objects.get(name=DRIFT_CHECK).detail == stored.detail


@pytest.mark.parametrize("ninox_dialect", ["workspace"])
def test_on_the_workspace_api_check_drift_now_reads_the_grants_whole_and_compares(
    mirrored: Any, ninox_dialect: str, admin_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    fy = current_fiscal_year()
    lodge = lodge_with_grants()
    grant = counted_grant(lodge)
    portal_total = used_in_ninox(lodge.id, fy.key)
    edit_in_ninox(mirrored, grant, Amount=grant.amount + Decimal("5.00"))
    as_admin = Client()
    as_admin.force_login(admin_user)
    calls = mirrored.emulator.calls

    with django_capture_on_commit_callbacks(execute=True):
        assert as_admin.post("/manage/ninox/drift-check/").status_code == 302

    assert mirrored.emulator.calls - calls == 15  # 1,500 grants by 100-row pages
    finding = DriftFinding.objects.get(lodge=lodge)
    assert (finding.mirror_total, finding.ninox_total) == (
        portal_total,
        portal_total + Decimal("5.00"),
    )
    page = as_admin.get("/health/").content.decode()
    assert "by the full read of every grant:" in page
    assert "differed: 1, repaired by re-reading: 1" in page


def test_an_application_of_a_lodge_without_findings_is_not_doubted(mirrored: Any) -> None:
    assert drift_check().available
    lodge = lodge_with_grants()
    assert drift_doubts(lodge.id) == []
    assert drift_doubts(None) == []
    assert not Application.objects.exists()


def test_staff_see_an_open_finding_with_both_figures_on_the_health_page(
    mirrored: Any, reviewer: Any
) -> None:
    lodge = lodge_with_grants()
    add_fractional_grants(mirrored, lodge)
    sync_mirror()
    drift_check()
    finding = DriftFinding.objects.get(lodge=lodge)
    client = Client()
    client.force_login(reviewer)

    page = client.get("/health/").content.decode()

    assert f"${finding.ninox_total:,}" in page
    assert f"${finding.mirror_total:,}" in page
    assert lodge.name in page


def test_check_drift_now_queues_the_check_for_admins_only(
    mirrored: Any, admin_user: Any, reviewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from portal.audit import AuditEvent

    as_reviewer = Client()
    as_reviewer.force_login(reviewer)
    assert "Check drift now" not in as_reviewer.get("/health/").content.decode()
    assert as_reviewer.post("/manage/ninox/drift-check/").status_code == 403
    assert not ServiceCheck.objects.filter(name=DRIFT_CHECK).exists()
    as_admin = Client()
    as_admin.force_login(admin_user)
    assert "Check drift now" in as_admin.get("/health/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_admin.post("/manage/ninox/drift-check/")

    assert response.status_code == 302
    assert ServiceCheck.objects.get(name=DRIFT_CHECK).ok
    assert AuditEvent.objects.filter(action="ninox.drift_check_requested").exists()
    assert "lodge(s) compared" in as_admin.get("/health/").content.decode()


def test_one_check_reads_again_the_grants_of_at_most_ten_lodges(
    mirrored: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("grants.drift.REREADS_PER_CHECK", 1)
    fy = current_fiscal_year().key
    lodges = [
        lodge
        for lodge in Lodge.objects.filter(active=True).order_by("number")
        if NinoxGrant.objects.filter(lodge=lodge, fiscal_year=fy)
        .exclude(status=NinoxGrant.CANCELLED)
        .exists()
    ][:2]
    for lodge in lodges:
        NinoxGrant.objects.filter(lodge=lodge, fiscal_year=fy).update(amount=Decimal("1.00"))

    report = drift_check()

    assert report.mismatched == [lodge.number for lodge in lodges]
    assert report.repaired == [lodges[0].number]
    assert report.still_open == [lodges[1].number]
    assert drift_doubts(lodges[1].id)
    # The next check reads the other lodge's grants and resolves it.
    report = drift_check()
    assert report.repaired == [lodges[1].number]
    assert drift_doubts(lodges[1].id) == []
