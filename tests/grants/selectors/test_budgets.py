"""The budget arithmetic: one lodge's budget and the lodge list read the same figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.models import Lodge, Status
from grants.money import ZERO
from grants.rules import current_fiscal_year
from grants.selectors.budgets import lodge_budget, lodges_with_budget, used_in_ninox
from tests.factories import ApplicationFactory, LodgeFactory, NinoxGrantFactory

pytestmark = pytest.mark.django_db

CAP = Decimal("4000.00")


def planted_lodge() -> tuple[Lodge, int]:
    """A lodge with Ninox grants and portal applications of every kind in this FY."""
    lodge = LodgeFactory.create()
    fy = current_fiscal_year().key
    NinoxGrantFactory.create(lodge=lodge, amount=Decimal("1000.10"))
    NinoxGrantFactory.create(lodge=lodge, amount=Decimal("700.00"), status="Cancelled")
    NinoxGrantFactory.create(lodge=lodge, amount=Decimal("300.00"), fiscal_year=fy - 1)
    # Approved in the portal and already written to Ninox: counted once, from Ninox.
    seen = ApplicationFactory.create(lodge=lodge, paid=True, amount_requested=Decimal("250.00"))
    NinoxGrantFactory.create(lodge=lodge, reference=seen.reference, amount=Decimal("250.00"))
    ApplicationFactory.create(lodge=lodge, approved=True, amount_requested=Decimal("400.25"))
    ApplicationFactory.create(lodge=lodge, paid=True, amount_requested=Decimal("99.65"))
    for status in (Status.SUBMITTED, Status.NEEDS_REVIEW, Status.REJECTED, Status.CANCELLED):
        ApplicationFactory.create(lodge=lodge, status=status, amount_requested=Decimal("55.00"))
    ApplicationFactory.create(
        lodge=lodge, approved=True, amount_requested=Decimal("77.00"), fiscal_year=fy - 1
    )
    return lodge, fy


def test_it_counts_ninox_grants_not_cancelled_and_approvals_ninox_has_not_seen() -> None:
    lodge, fy = planted_lodge()
    budget = lodge_budget(lodge.id, fy, CAP)
    assert budget.used_ninox == Decimal("1250.10")
    assert budget.pending_portal == Decimal("499.90")
    assert budget.used == Decimal("1750.00")
    assert budget.remaining == Decimal("2250.00")


def test_one_lodges_budget_is_its_row_in_the_lodge_list() -> None:
    lodge, fy = planted_lodge()
    LodgeFactory.create()  # a lodge with nothing, beside it
    budget = lodge_budget(lodge.id, fy, CAP)
    row = lodges_with_budget(fy, CAP).get(pk=lodge.pk)
    assert (row.used_ninox, row.pending_portal, row.used, row.remaining) == (  # type: ignore[attr-defined]
        budget.used_ninox,
        budget.pending_portal,
        budget.used,
        budget.remaining,
    )


def test_it_leaves_out_the_application_being_decided() -> None:
    lodge, fy = planted_lodge()
    deciding = ApplicationFactory.create(
        lodge=lodge, approved=True, amount_requested=Decimal("100.00")
    )
    assert lodge_budget(lodge.id, fy, CAP).pending_portal == Decimal("599.90")
    assert lodge_budget(lodge.id, fy, CAP, exclude_id=deciding.id).pending_portal == Decimal(
        "499.90"
    )


def test_a_lodge_with_nothing_has_used_nothing_in_cents() -> None:
    lodge = LodgeFactory.create()
    fy = current_fiscal_year().key
    budget = lodge_budget(lodge.id, fy, CAP)
    assert (budget.used_ninox, budget.pending_portal, budget.remaining) == (ZERO, ZERO, CAP)
    assert str(budget.used) == "0.00"
    assert lodges_with_budget(fy, CAP).get(pk=lodge.pk).remaining == CAP  # type: ignore[attr-defined]


def test_a_lodge_id_that_names_no_lodge_has_used_nothing() -> None:
    budget = lodge_budget(987654, current_fiscal_year().key, CAP)
    assert (budget.used, budget.remaining) == (ZERO, CAP)


def test_one_lodges_budget_is_one_query(django_assert_num_queries: object) -> None:
    lodge, fy = planted_lodge()
    with django_assert_num_queries(1):  # type: ignore[operator]
        lodge_budget(lodge.id, fy, CAP)


def test_used_in_ninox_is_the_mirrors_sum_for_the_drift_check() -> None:
    lodge, fy = planted_lodge()
    assert used_in_ninox(lodge.id, fy) == Decimal("1250.10")
    assert str(used_in_ninox(lodge.id, fy - 1)) == "300.00"
    assert used_in_ninox(987654, fy) == ZERO


def test_every_lodges_budget_agrees_with_its_row_in_the_list_leaving_out_or_not() -> None:
    lodge, fy = planted_lodge()
    deciding = ApplicationFactory.create(
        lodge=lodge, approved=True, amount_requested=Decimal("100.00")
    )
    others = [LodgeFactory.create() for _ in range(3)]
    NinoxGrantFactory.create(lodge=others[0], amount=Decimal("3999.99"))
    ApplicationFactory.create(lodge=others[1], approved=True, amount_requested=Decimal("12.34"))
    for exclude_id in (None, deciding.id):
        rows = lodges_with_budget(fy, CAP, exclude_id=exclude_id)
        for row in rows:
            budget = lodge_budget(row.pk, fy, CAP, exclude_id=exclude_id)
            assert (budget.used_ninox, budget.pending_portal) == (
                row.used_ninox.quantize(Decimal("0.01")),  # type: ignore[attr-defined]
                row.pending_portal.quantize(Decimal("0.01")),  # type: ignore[attr-defined]
            ), row


def test_the_one_lodge_query_is_built_once_per_year_and_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from grants.selectors import budgets

    budgets._one_lodge_sql.cache_clear()
    built: list[int] = []
    real = budgets.lodges_with_budget

    def counted(fiscal_year: int, cap: Decimal, **kwargs: object) -> object:
        built.append(fiscal_year)
        return real(fiscal_year, cap, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(budgets, "lodges_with_budget", counted)
    lodge, fy = planted_lodge()
    first = lodge_budget(lodge.id, fy, CAP)
    assert lodge_budget(lodge.id, fy, CAP) == first
    assert lodge_budget(LodgeFactory.create().id, fy, CAP).used == ZERO
    assert built == [fy]
    lodge_budget(lodge.id, fy - 1, CAP)  # another year: its own query
    assert built == [fy, fy - 1]
