"""The status transitions declared once on the Application model, and the payment link's end."""

from __future__ import annotations

from datetime import timedelta
from itertools import product
from typing import Any

import pytest
from django.utils import timezone

from grants.models import (
    RESERVING,
    TRANSITIONS,
    Application,
    IllegalTransition,
    Status,
    Transition,
    transition_between,
)
from grants.models.applications import DECIDE, REFUND
from portal.lib.errors import PortalError

DECLARED = {(t.source, t.target) for t in TRANSITIONS}
UNDECLARED = [pair for pair in product(Status, Status) if pair not in DECLARED]


def _application(status: str) -> Application:
    return Application(reference="MG-2026-00001", lodge_number=1, status=status)


def _label(t: Transition) -> str:
    return f"{t.source}->{t.target}"


def test_each_pair_of_statuses_is_declared_at_most_once() -> None:
    assert len(DECLARED) == len(TRANSITIONS)


def test_releases_is_true_exactly_when_the_match_stops_holding_budget() -> None:
    for t in TRANSITIONS:
        assert t.releases == (t.source in RESERVING and t.target not in RESERVING), _label(t)


def test_every_transition_can_be_made_by_someone() -> None:
    for t in TRANSITIONS:
        assert t.automatic or t.permission is not None, _label(t)


@pytest.mark.parametrize("transition", [t for t in TRANSITIONS if t.automatic], ids=_label)
def test_the_portal_itself_may_make_each_automatic_transition(transition: Transition) -> None:
    application = _application(transition.source)

    made = application.move_to(transition.target, actor="auto-decision")

    assert made == transition
    assert application.status == transition.target


@pytest.mark.django_db
@pytest.mark.parametrize(
    "transition", [t for t in TRANSITIONS if t.permission is not None], ids=_label
)
def test_the_role_the_permission_names_may_make_each_transition_that_names_one(
    transition: Transition, reviewer: Any, finance: Any
) -> None:
    # Deciding and cancelling are the reviewers'; refunding is finance's.
    person = {DECIDE: reviewer, REFUND: finance}[transition.permission]  # type: ignore[index]
    application = _application(transition.source)

    application.move_to(transition.target, actor=person)

    assert application.status == transition.target


@pytest.mark.django_db
def test_a_reviewer_may_not_refund_and_finance_may_not_cancel(reviewer: Any, finance: Any) -> None:
    with pytest.raises(IllegalTransition, match="Finance or Admin"):
        _application(Status.PAID).move_to(Status.REFUNDED, actor=reviewer)
    with pytest.raises(IllegalTransition, match="Reviewer or Admin"):
        _application(Status.APPROVED).move_to(Status.CANCELLED, actor=finance)


@pytest.mark.parametrize(("source", "target"), UNDECLARED, ids=[f"{s}->{t}" for s, t in UNDECLARED])
def test_it_refuses_every_undeclared_transition(source: Status, target: Status) -> None:
    application = _application(source)

    with pytest.raises(IllegalTransition) as raised:
        application.move_to(target, actor="auto-decision")

    assert raised.value.message == (
        f"An application cannot go from {source.label.lower()} to {target.label.lower()}."
    )
    assert application.status == source


def test_an_illegal_transition_is_a_portal_error_so_pages_show_it() -> None:
    with pytest.raises(PortalError):
        transition_between(Status.PAID, Status.APPROVED)


def test_the_portal_cannot_make_a_transition_only_a_person_may() -> None:
    application = _application(Status.APPROVED)

    with pytest.raises(IllegalTransition, match="Only a person may"):
        application.move_to(Status.CANCELLED, actor="payment expiry")

    assert application.status == Status.APPROVED


@pytest.mark.django_db
def test_a_person_cannot_mark_an_application_paid(admin_user: Any) -> None:
    application = _application(Status.APPROVED)

    with pytest.raises(IllegalTransition, match="Only the portal itself"):
        application.move_to(Status.PAID, actor=admin_user)

    assert application.status == Status.APPROVED


@pytest.mark.django_db
def test_a_person_without_the_permission_is_refused_with_the_role_it_needs(finance: Any) -> None:
    application = _application(Status.NEEDS_REVIEW)

    with pytest.raises(IllegalTransition, match="Reviewer"):
        application.move_to(Status.APPROVED, actor=finance)

    assert application.status == Status.NEEDS_REVIEW


def test_the_payment_link_is_expired_from_its_end_onwards() -> None:
    now = timezone.now()
    application = _application(Status.APPROVED)
    application.payment_expires_at = now

    assert application.payment_link_expired(now)
    assert application.payment_link_expired(now + timedelta(seconds=1))
    assert not application.payment_link_expired(now - timedelta(seconds=1))


def test_a_payment_link_without_an_end_never_expires() -> None:
    application = _application(Status.APPROVED)

    assert not application.payment_link_expired(timezone.now() + timedelta(days=3650))
